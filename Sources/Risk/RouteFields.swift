import Queue

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

    /// Where one upstream member sends requests.
    struct Upstream: Sendable, Equatable {
        /// The scheme (`https`), when it was written as a URL.
        var scheme: String?
        /// The host as written (lower case, port and userinfo removed, brackets kept for IPv6).
        var written: String
        /// Its canonical reading (``CanonicalHost/text``), or `written` when it has none.
        var canonical: String
    }

    /// Every upstream member's host (a route that names its upstream under
    /// two keys is hinted for both: which one cred-proxy reads is its business).
    let upstreams: [Upstream]
    /// The upstream's scheme (`https`), when it was written as a URL.
    var scheme: String? { upstreams.first?.scheme }
    /// The first upstream's canonical host: the one compared with the current routes.
    var host: String? { upstreams.first?.canonical }
    /// Whether the route attaches a credential.
    let injectsCredential: Bool
    /// The path or prefix the route matches, as written.
    let path: String?
    /// The methods the route allows, upper case; `nil` when it names none
    /// (cred-proxy then forwards every method).
    let methods: Set<String>?

    init(_ route: JSONValue) {
        guard case .object(let members) = route else {
            self.init(upstreams: [], injectsCredential: false, path: nil, methods: nil)
            return
        }
        // Keys are matched as a case- and Unicode-folding reader would
        // match them (``KeyFolding``); the validator refuses two keys that fold alike.
        let folded = members.map { (key: KeyFolding.fold($0.key), value: $0.value) }
        func value(_ keys: [String]) -> JSONValue? {
            for key in keys {
                if let member = folded.first(where: { $0.key == key }) { return member.value }
            }
            return nil
        }
        var upstreams: [Upstream] = []
        for key in RouteFields.upstreamKeys {
            for member in folded where member.key == key {
                guard case .string(let text) = member.value else { continue }
                let (scheme, host) = RouteFields.split(text)
                guard let host else { continue }
                let canonical = (try? CanonicalHost.parse(host).get())?.text ?? host
                upstreams.append(Upstream(scheme: scheme, written: host, canonical: canonical))
            }
        }
        let injects = folded.contains { member in
            guard RouteFields.credentialKeys.contains(member.key) else { return false }
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
        self.init(upstreams: upstreams, injectsCredential: injects, path: path, methods: methods)
    }

    init(upstreams: [Upstream], injectsCredential: Bool, path: String?, methods: Set<String>?) {
        self.upstreams = upstreams
        self.injectsCredential = injectsCredential
        self.path = path
        self.methods = methods
    }

    /// Whether the route allows every method (none named, or `*`/`ANY`).
    var allowsEveryMethod: Bool {
        guard let methods else { return true }
        return methods.contains("*") || methods.contains("ANY") || methods.contains("ALL")
    }

    /// The schemes the WHATWG URL standard calls special: their authority
    /// ends at `\` as well as `/`, and any run of slashes may follow the colon.
    static let specialSchemes: Set<String> = ["http", "https", "ws", "wss", "ftp"]

    /// Splits `https://user@Api.Example.com:443/v1/` into (`https`, `api.example.com`);
    /// a bare `api.example.com:443` gives (nil, `api.example.com`).
    ///
    /// Read as a WHATWG URL parser reads it, so the host the hints judge is
    /// the host a client connects to: tabs and newlines are removed, `\`
    /// ends the authority of an http(s) URL (`https://evil.example\@good.example/`
    /// goes to evil.example), `https:evil.example` and `https:/\evil.example`
    /// are http(s) URLs, and the userinfo ends at the authority's last `@`.
    static func split(_ upstream: String) -> (scheme: String?, host: String?) {
        let cleaned = String(
            String.UnicodeScalarView(upstream.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }))
        var rest = Substring(cleaned.trimmingSpaces())
        var scheme: String?
        if let colon = rest.firstIndex(of: ":") {
            let candidate = rest[..<colon].lowercased()
            let after = rest[rest.index(after: colon)...]
            let isScheme =
                candidate.first?.isLetter == true
                && candidate.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            if isScheme, specialSchemes.contains(candidate) || after.hasPrefix("//") {
                scheme = candidate
                rest = after
                let slashes: Set<Character> = specialSchemes.contains(candidate) ? ["/", "\\"] : ["/"]
                rest = rest.drop { slashes.contains($0) }
            }
        }
        let special = scheme.map(specialSchemes.contains) ?? true
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || (special && $0 == "\\") }) {
            rest = rest[..<end]
        }
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
