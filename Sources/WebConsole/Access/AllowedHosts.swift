/// The names the web console answers to: loopback, the bind address, and the
/// names the operator lists (`--allowed-host`).
///
/// A page on another site can make a browser send requests here by pointing
/// its own name at 127.0.0.1 (DNS rebinding); such a request carries the
/// other site's name in `Host`, which this refuses (421), and in `Origin`,
/// which must also be one of these (403).
public struct AllowedHosts: Sendable {
    private let names: Set<String>

    public init(bind: String, extra: [String]) {
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        if bind != "0.0.0.0", bind != "::" { names.insert(Self.bare(bind)) }
        for name in extra { names.insert(Self.bare(name.lowercased())) }
        self.names = names
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6]:port`) names us.
    public func allows(host: String?) -> Bool {
        guard let host, !host.isEmpty else { return false }
        return names.contains(Self.bare(Self.stripPort(host.lowercased())))
    }

    /// Whether an `Origin` header value (`scheme://host[:port]`) is ours; a missing Origin is not checked here.
    public func allows(origin: String) -> Bool {
        let lower = origin.lowercased()
        guard let range = lower.range(of: "://"), ["http", "https"].contains(lower[..<range.lowerBound]) else {
            return false
        }
        return allows(host: String(lower[range.upperBound...]))
    }

    private static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return host }
            return String(host[...close])
        }
        guard let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon else { return host }
        return String(host[..<colon])
    }

    private static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
