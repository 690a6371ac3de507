import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Asks a running sidecar whether it answers: `GET /health` over loopback,
/// with one deadline for connecting, sending and reading the status line.
///
/// The container image is `FROM scratch` — no shell, no curl — so its
/// `HEALTHCHECK` runs the binary itself (`bottle-supervise health`). The
/// probe is a non-blocking POSIX socket and `poll` rather than `URLSession`
/// (which would go through libcurl) or a SwiftNIO event loop: a health
/// check runs every few seconds for the container's whole life, so it
/// should start, ask and exit in milliseconds, and never outlive its
/// deadline, whatever the sidecar does (refuse, accept and stay silent,
/// answer byte by byte, send garbage).
public struct HealthProbe: Sendable {
    /// What the probe found.
    public enum Outcome: Equatable, Sendable {
        /// The sidecar answered `/health` with `200`.
        case healthy
        /// Anything else, with a sentence saying what (for `podman inspect`'s health log).
        case unhealthy(String)
    }

    /// The numeric address to connect to (IPv4 or IPv6 literal).
    public let address: String
    /// The TCP port.
    public let port: Int
    /// The whole probe's budget: connect, send and read together.
    public let timeout: Duration

    /// The most the probe reads: a status line is far shorter, and a
    /// sidecar that streams bytes without ending its line is unhealthy.
    static let responseLimit = 4096

    /// A probe of `address:port`, bounded by `timeout`.
    public init(address: String, port: Int, timeout: Duration) {
        self.address = address
        self.port = port
        self.timeout = timeout
    }

    /// The address a health check should use for a sidecar bound to `bind`:
    /// a wildcard bind is reached over loopback; a specific address only at itself.
    public static func address(forBind bind: String) -> String {
        switch bind {
        case "", "0.0.0.0": "127.0.0.1"
        case "::", "[::]": "::1"
        default: bind.hasPrefix("[") && bind.hasSuffix("]") ? String(bind.dropFirst().dropLast()) : bind
        }
    }

    /// Runs the probe; returns within ``timeout`` (plus scheduling noise).
    public func run() -> Outcome {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        func remainingMilliseconds() -> Int32 {
            let left = deadline - clock.now
            guard left > .zero else { return 0 }
            let (seconds, attoseconds) = left.components
            return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        }

        guard let target = SocketAddress(numeric: address, port: port) else {
            return .unhealthy("\(address) is not a numeric IP address")
        }
        let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .unhealthy("cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let shown = "\(target.display):\(port)"

        // Connect, bounded.
        let connected = target.withSockaddr { connect(fd, $0, $1) }
        if connected != 0 {
            guard errno == EINPROGRESS else {
                return .unhealthy("cannot connect to \(shown): \(String(cString: strerror(errno)))")
            }
            guard wait(fd, for: Int16(POLLOUT), milliseconds: remainingMilliseconds()) else {
                return .unhealthy("no connection to \(shown) within \(timeout)")
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else {
                return .unhealthy("cannot connect to \(shown): \(String(cString: strerror(failure)))")
            }
        }

        // Send the request, bounded.
        let hostHeader = target.family == AF_INET6 ? "[\(address)]:\(port)" : "\(address):\(port)"
        let request = Array("GET /health HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard wait(fd, for: Int16(POLLOUT), milliseconds: remainingMilliseconds()) else {
                    return .unhealthy("\(shown) did not take the request within \(timeout)")
                }
            } else {
                return .unhealthy("\(shown) closed the connection: \(String(cString: strerror(errno)))")
            }
        }

        // Read up to the end of the status line, bounded in time and size.
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !response.contains(UInt8(ascii: "\n")) {
            guard response.count < Self.responseLimit else {
                return .unhealthy("\(shown) sent \(Self.responseLimit) bytes without a status line")
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                response += buffer[..<count]
            } else if count == 0 {
                break
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard wait(fd, for: Int16(POLLIN), milliseconds: remainingMilliseconds()) else {
                    return .unhealthy("\(shown) did not answer /health within \(timeout)")
                }
            } else {
                return .unhealthy("reading from \(shown): \(String(cString: strerror(errno)))")
            }
        }
        let statusLine = response.split(separator: UInt8(ascii: "\n"), maxSplits: 1).first.map {
            String(decoding: $0, as: UTF8.self).trimmed()
        } ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else {
            return .unhealthy("\(shown) did not answer HTTP (\(statusLine.isEmpty ? "nothing" : "\"\(Self.clipped(statusLine))\""))")
        }
        guard parts[1] == "200" else {
            return .unhealthy("\(shown) answered /health with \(Self.clipped(statusLine))")
        }
        return .healthy
    }

    /// Waits until `fd` is ready for `events`; `false` when the time is up.
    private func wait(_ fd: Int32, for events: Int16, milliseconds: Int32) -> Bool {
        var left = milliseconds
        let clock = ContinuousClock()
        while left > 0 {
            let started = clock.now
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, left)
            if ready > 0 { return true }
            if ready == 0 || errno != EINTR { return false }
            let spent = clock.now - started
            left -= Int32(clamping: spent.components.seconds * 1000 + spent.components.attoseconds / 1_000_000_000_000_000)
        }
        return false
    }

    /// A line from the peer, printable and short, for a message.
    static func clipped(_ text: String) -> String {
        let printable = String(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return printable.count > 80 ? String(printable.prefix(80)) + "…" : printable
    }
}

/// A numeric IPv4 or IPv6 socket address.
private struct SocketAddress {
    let family: Int32
    let display: String
    private var storage = sockaddr_storage()
    private let length: socklen_t

    init?(numeric address: String, port: Int) {
        guard (0...65535).contains(port) else { return nil }
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            family = AF_INET
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            display = address
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v4) { target.copyMemory(from: $0) }
            }
        } else if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            family = AF_INET6
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            display = "[\(address)]"
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v6) { target.copyMemory(from: $0) }
            }
        } else {
            return nil
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
