#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOCore

/// A listening socket that could not be opened, said as the operator needs it: which address and
/// port, why, and what to do, instead of NIO's `bind(descriptor:ptr:bytes:): Address already in
/// use (errno: 98)`.
public enum ListenFailure {
    /// The message for `error` when it is a failure to listen on `host`:`port` (`nil`: another error).
    /// - Parameter portFlag: the flag (or variable) that set the port, named in the advice.
    public static func message(for error: any Error, host: String, port: Int, portFlag: String) -> String? {
        guard let io = error as? IOError else { return nil }
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch io.errnoCode {
        case EADDRINUSE:
            return "cannot listen on \(address): port \(port) is in use by another program; "
                + "pick another with \(portFlag) (0 picks a free one), or stop the program using it (ss -ltnp 'sport = :\(port)')"
        case EADDRNOTAVAIL:
            return "cannot listen on \(address): \(host) is not an address of this machine; give one of its addresses"
        case EACCES:
            return "cannot listen on \(address): ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port "
                + "of 1024 or more with \(portFlag)"
        default:
            return "cannot listen on \(address): \(String(cString: strerror(io.errnoCode)))"
        }
    }
}
