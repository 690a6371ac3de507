import ArgumentParser
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Queue

/// An address to listen on or to ask: an IPv4 or IPv6 literal, or `localhost`.
///
/// Checked while parsing, so `--bind 999.1.1.1` or `--address localhost:9100`
/// is a usage error (2) naming the flag, not a failure to bind (1) after the
/// command has started. Host names other than `localhost` are refused: which
/// interface a name resolves to can change between two starts.
public struct ListenAddress: ExpressibleByArgument, CustomStringConvertible, Sendable, Equatable {
    /// The address as given (an IPv6 literal without brackets).
    public let text: String

    public static let loopback = ListenAddress(checked: "127.0.0.1")

    private init(checked text: String) { self.text = text }

    public init?(argument: String) {
        let text = argument.hasPrefix("[") && argument.hasSuffix("]") ? String(argument.dropFirst().dropLast()) : argument
        guard text == "localhost" || Self.isNumeric(text) else { return nil }
        self.text = text
    }

    public var description: String { text }

    /// Whether only this machine can reach it: 127.0.0.0/8, ::1, localhost.
    public var isLoopback: Bool {
        if text == "localhost" || text == "::1" { return true }
        var v4 = in_addr()
        return inet_pton(AF_INET, text, &v4) == 1 && (UInt32(bigEndian: v4.s_addr) >> 24) == 127
    }

    private static func isNumeric(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// What a valid address looks like, for messages.
    public static let rule = "an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::1) or localhost"

    /// `flag`, else `variable` (checked: a bad one is a usage error naming it), else 127.0.0.1; as text.
    public static func resolve(_ flag: String?, variable: String, flag name: String, environment: EnvironmentFallback) throws
        -> String
    {
        if let flag {
            guard let address = ListenAddress(argument: flag) else {
                throw ValidationError("\(name) \(Escaped(flag)) is not \(rule)")
            }
            return address.text
        }
        guard let text = environment.text(variable) else { return loopback.text }
        guard let address = ListenAddress(argument: text) else {
            throw ValidationError("$\(variable) is \"\(Escaped(text))\", not \(rule)")
        }
        return address.text
    }
}
