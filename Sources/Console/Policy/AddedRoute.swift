import Queue

/// An added cred-proxy route, read the way a standing rule judges it:
/// strictly, because the agent writes it and cred-proxy's schema is its own.
///
/// The members are found by the names docs/risk-hints.md lists (compared
/// in ASCII lower case). A route is judgeable only when:
/// - no two of its members have the same name in lower case (`url` and
///   `URL`: which one cred-proxy reads is not ours to guess);
/// - every member is one of the known kinds — upstream, credential, path,
///   methods — or a label (`name`, `description`, `comment`); anything else
///   might change what the route does, so a human looks;
/// - it has exactly one upstream member, a string whose host is written
///   plainly: `https://` or `http://` (or no scheme), no user info (`@`),
///   no backslash, no percent-escape, no trailing dot, ASCII only, an
///   optional numeric port, then nothing or a path.
struct AddedRoute: Sendable, Equatable {
    /// The upstream host in lower case.
    let host: String
    /// The credential names the route attaches (the string values of its credential members).
    let credentials: [String]
    /// The methods it allows, upper case; `nil` when it names none (every method).
    let methods: Set<String>?

    static let upstreamKeys: Set<String> = ["upstream", "url", "target", "origin", "base_url", "baseurl", "backend", "host"]
    static let credentialKeys: Set<String> = [
        "credential", "credentials", "token", "secret", "header", "headers", "auth", "authorization",
        "api_key", "apikey", "key", "bearer", "inject", "inject_header", "inject_headers", "password",
    ]
    static let pathKeys: Set<String> = ["path", "prefix", "path_prefix", "pathprefix", "match"]
    static let methodKeys: Set<String> = ["methods", "method"]
    static let labelKeys: Set<String> = ["name", "description", "comment"]

    /// Reads `route`, or says why a rule cannot judge it.
    static func read(_ route: JSONValue) -> Result<AddedRoute, PolicyProblem> {
        guard case .object(let members) = route else { return .failure(PolicyProblem("a route is not an object")) }
        var seen = Set<String>()
        var upstreams: [JSONValue] = []
        var credentials: [String] = []
        var methods: Set<String>?
        for member in members {
            let key = HostPattern.lowercase(member.key)
            guard seen.insert(key).inserted else {
                return .failure(PolicyProblem("the route names \(PolicyProblem.quoted(key)) twice (in different case)"))
            }
            if upstreamKeys.contains(key) {
                upstreams.append(member.value)
            } else if credentialKeys.contains(key) {
                guard case .string(let name) = member.value, !name.isEmpty else {
                    return .failure(
                        PolicyProblem("the route's \(PolicyProblem.quoted(member.key)) is not a plain credential name"))
                }
                credentials.append(name)
            } else if methodKeys.contains(key) {
                var named = methods ?? []
                switch member.value {
                case .string(let text): named.insert(text.uppercased())
                case .array(let items):
                    for item in items {
                        guard case .string(let text) = item else {
                            return .failure(PolicyProblem("the route's methods are not all strings"))
                        }
                        named.insert(text.uppercased())
                    }
                default: return .failure(PolicyProblem("the route's methods are not a string or a list of strings"))
                }
                methods = named
            } else if pathKeys.contains(key) || labelKeys.contains(key) {
                continue
            } else {
                return .failure(
                    PolicyProblem("the route has a member \(PolicyProblem.quoted(member.key)) that no rule can judge"))
            }
        }
        guard upstreams.count == 1, case .string(let upstream) = upstreams[0] else {
            return .failure(
                PolicyProblem(
                    upstreams.isEmpty ? "the route names no upstream" : "the route names its upstream more than once, or not as a string"))
        }
        guard let host = plainHost(of: upstream) else {
            return .failure(
                PolicyProblem("the route's upstream \(PolicyProblem.quoted(upstream)) is not a plain http(s)://host[:port][/path]"))
        }
        return .success(AddedRoute(host: host, credentials: credentials, methods: methods))
    }

    /// The host of an upstream written plainly, lower case; `nil` for anything a URL parser could read two ways.
    static func plainHost(of upstream: String) -> String? {
        guard upstream.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            return nil
        }
        guard !upstream.contains("\\"), !upstream.contains("@"), !upstream.contains("%") else { return nil }
        var rest = Substring(upstream)
        let lower = HostPattern.lowercase(upstream)
        if lower.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains(":/") || rest.hasPrefix("//") {
            return nil  // another scheme, or a scheme-relative reference
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var host = authority
        if let colon = authority.firstIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            host = authority[..<colon]
        }
        let name = HostPattern.lowercase(String(host))
        guard HostPattern.isHostname(name) else { return nil }
        return name
    }
}
