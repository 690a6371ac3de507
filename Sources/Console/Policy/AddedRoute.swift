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
///   might change what the route does, so a human looks (a non-ASCII key
///   that Unicode case folding would read as a known one, `methodſ`, is
///   "anything else");
/// - it names its methods at most once: `method` and `methods` together
///   leave which one cred-proxy reads to its own rules;
/// - it has exactly one upstream member, a string whose host is written
///   plainly: `https://` or `http://` (or no scheme), no user info (`@`),
///   no backslash, no percent-escape, no trailing dot, ASCII only, an
///   optional numeric port, then nothing or a path.
struct AddedRoute: Sendable, Equatable {
    /// The upstream host in lower case.
    let host: String
    /// The credential names the route attaches (the string values of its credential members).
    let credentials: [String]
    /// The methods it allows, upper case; `nil` when it names none (every
    /// method) — or names them as an empty list, which a proxy may as well
    /// read as "no restriction" as "nothing": it is never taken as narrower
    /// than every method.
    let methods: Set<String>?
    /// Whether the upstream is not `https://` (`http://`, or no scheme, which
    /// cred-proxy may complete either way): a credential would cross the
    /// network in cleartext.
    let cleartext: Bool

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
        var methodMembers = 0
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
                methodMembers += 1
                guard methodMembers == 1 else {
                    return .failure(PolicyProblem("the route names its methods twice (\"method\" and \"methods\")"))
                }
                var named = Set<String>()
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
                methods = named.isEmpty ? nil : named
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
        guard let plain = plainUpstream(upstream) else {
            return .failure(
                PolicyProblem("the route's upstream \(PolicyProblem.quoted(upstream)) is not a plain http(s)://host[:port][/path]"))
        }
        return .success(AddedRoute(host: plain.host, credentials: credentials, methods: methods, cleartext: !plain.https))
    }

    /// The host of an upstream written plainly, lower case, and whether it
    /// is `https://`; `nil` for anything a URL parser could read two ways.
    static func plainUpstream(_ upstream: String) -> (host: String, https: Bool)? {
        guard upstream.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            return nil
        }
        guard !upstream.contains("\\"), !upstream.contains("@"), !upstream.contains("%") else { return nil }
        var rest = Substring(upstream)
        let lower = HostPattern.lowercase(upstream)
        let https = lower.hasPrefix("https://")
        if https {
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
        return (name, https)
    }
}
