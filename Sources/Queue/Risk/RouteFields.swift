/// The parts of a cred-proxy route the risk rules look at, found by the
/// member names routes commonly use.
///
/// cred-proxy's route schema is its own (the validator deliberately checks
/// no route field), so these are heuristics over well-known names, matched
/// case-insensitively; a route that names its upstream otherwise gets no
/// host-based hints. docs/risk-hints.md lists the names.
struct RouteFields: Sendable, Equatable {
    /// Members naming where the request goes.
    static let upstreamKeys = ["upstream", "url", "target", "origin", "base_url", "baseurl", "backend", "host"]
    /// Members that make the proxy attach a credential.
    static let credentialKeys: Set<String> = [
        "credential", "credentials", "token", "secret", "header", "headers", "auth", "authorization",
        "api_key", "apikey", "key", "bearer", "inject", "inject_header", "inject_headers", "password",
    ]
    static let pathKeys = ["path", "prefix", "path_prefix", "pathprefix", "match"]
    static let methodKeys = ["methods", "method"]

    /// The upstream's scheme (`https`), when it was written as a URL.
    let scheme: String?
    /// The upstream's host, lower case, without port or brackets kept for IPv6.
    let host: String?
    /// Whether the route attaches a credential.
    let injectsCredential: Bool
    /// The path or prefix the route matches, as written.
    let path: String?
    /// The methods the route allows, upper case; `nil` when it names none
    /// (cred-proxy then forwards every method).
    let methods: Set<String>?

    init(_ route: JSONValue) {
        guard case .object(let members) = route else {
            self.init(scheme: nil, host: nil, injectsCredential: false, path: nil, methods: nil)
            return
        }
        func value(_ keys: [String]) -> JSONValue? {
            for key in keys {
                if let member = members.first(where: { $0.key.lowercased() == key }) { return member.value }
            }
            return nil
        }
        var scheme: String?, host: String?
        if case .string(let upstream)? = value(RouteFields.upstreamKeys) {
            (scheme, host) = RouteFields.split(upstream)
        }
        let injects = members.contains { member in
            guard RouteFields.credentialKeys.contains(member.key.lowercased()) else { return false }
            switch member.value {
            case .null, .bool(false): return false
            case .string(let text): return !text.isEmpty
            case .array(let items): return !items.isEmpty
            case .object(let inner): return !inner.isEmpty
            default: return true
            }
        }
        var path: String?
        if case .string(let text)? = value(RouteFields.pathKeys) { path = text }
        var methods: Set<String>?
        switch value(RouteFields.methodKeys) {
        case .string(let text)?: methods = [text.uppercased()]
        case .array(let items)?:
            methods = Set(items.compactMap { if case .string(let text) = $0 { text.uppercased() } else { nil } })
        default: methods = nil
        }
        self.init(scheme: scheme, host: host, injectsCredential: injects, path: path, methods: methods)
    }

    init(scheme: String?, host: String?, injectsCredential: Bool, path: String?, methods: Set<String>?) {
        self.scheme = scheme
        self.host = host
        self.injectsCredential = injectsCredential
        self.path = path
        self.methods = methods
    }

    /// Whether the route allows every method (none named, or `*`/`ANY`).
    var allowsEveryMethod: Bool {
        guard let methods else { return true }
        return methods.contains("*") || methods.contains("ANY") || methods.contains("ALL")
    }

    /// Splits `https://user@Api.Example.com:443/v1/` into (`https`, `api.example.com`);
    /// a bare `api.example.com:443` gives (nil, `api.example.com`).
    static func split(_ upstream: String) -> (scheme: String?, host: String?) {
        var rest = Substring(upstream.trimmingSpaces())
        var scheme: String?
        if let range = rest.range(of: "://") {
            scheme = rest[..<range.lowerBound].lowercased()
            rest = rest[range.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") {
            if let close = rest.firstIndex(of: "]") { rest = rest[...close] }
        } else if let colon = rest.lastIndex(of: ":") {
            rest = rest[..<colon]
        }
        let host = rest.lowercased()
        return (scheme, host.isEmpty ? nil : host)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { $0 != " " && $0 != "\t" } ?? scalars.endIndex
        let end = scalars.lastIndex { $0 != " " && $0 != "\t" }.map { scalars.index(after: $0) } ?? start
        return Substring(self[start..<end])
    }
}
