/// The names the web console answers to: loopback, the bind address, and the
/// names the operator lists (`--allowed-host`).
///
/// A page on another site can make a browser send requests here by pointing
/// its own name at 127.0.0.1 (DNS rebinding); such a request carries the
/// other site's name in `Host`, which this refuses (421), and in `Origin`,
/// which must also be one of these (403) — and more: the `Origin` must be
/// this console's own origin, the same scheme, name and port as the request
/// itself, so a page served from another port of the same host (another
/// local service, a developer's server) is another site too.
public struct AllowedHosts: Sendable {
    private let names: Set<String>
    /// The scheme the console serves: `http`, or `https` with TLS.
    private let scheme: String

    public init(bind: String, extra: [String], scheme: String = "http") {
        self.scheme = scheme
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

    /// Whether an `Origin` header value (`scheme://host[:port]`) is this
    /// console's own origin for a request that came with `Host: requestHost`:
    /// the console's scheme, a name we answer to, and the same name and port
    /// as the request (a port left out is the scheme's default, 80 or 443).
    /// A missing Origin is not checked here.
    public func allows(origin: String, requestHost: String?) -> Bool {
        let lower = origin.lowercased()
        guard let range = lower.range(of: "://"), lower[..<range.lowerBound] == scheme,
            let requestHost, allows(host: requestHost),
            let claimed = Self.nameAndPort(String(lower[range.upperBound...]), scheme: scheme),
            let actual = Self.nameAndPort(requestHost.lowercased(), scheme: scheme)
        else { return false }
        return allows(host: claimed.name) && claimed == actual
    }

    /// `name[:port]` or `[v6][:port]` split, the port defaulted by scheme;
    /// `nil` for anything else (a path, userinfo, a port that is not 1–65535).
    private static func nameAndPort(_ authority: String, scheme: String) -> (name: String, port: Int)? {
        let name = stripPort(authority)
        let rest = authority.dropFirst(name.count)
        guard !name.isEmpty, !name.contains("/"), !name.contains("@") else { return nil }
        let port: Int
        if rest.isEmpty {
            port = scheme == "https" ? 443 : 80
        } else {
            guard rest.first == ":", rest.count > 1, rest.dropFirst().allSatisfy(\.isASCII),
                rest.dropFirst().allSatisfy(\.isNumber), rest.count <= 6, let value = Int(rest.dropFirst()),
                (1...65535).contains(value)
            else { return nil }
            port = value
        }
        return (bare(name), port)
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
