import Queue

/// Risk rules for cred-proxy's routes (`cred-proxy-block`): where the routes
/// a proposal adds or changes send the bottle's requests, and with which
/// credentials.
///
/// Rules (docs/risk-hints.md): `credential-new-host`, `new-upstream-host`,
/// `plain-http-credential`, `broadened-path`, `broadened-methods`, and the
/// host rules of ``HostRisks`` on every upstream's canonical reading
/// (`exfiltration-host`, `private-address`, `ip-address`, `internal-name`,
/// `unreadable-host`). A route counts as added when no
/// route of the current file is equal to it as JSON.
enum RoutesRisks {
    static func assess(proposed: String, current: String?) -> [RiskHint] {
        guard let document = try? RoutesDocument.parse(proposed, plainKeys: false) else { return [] }
        let before = (current.flatMap { try? RoutesDocument.parse($0, plainKeys: false) })?.routes ?? []
        let existing = Set(before)
        let beforeFields = before.map(RouteFields.init)
        let knownHosts = Set(beforeFields.flatMap { $0.upstreams.map(\.canonical) })
        let credentialHosts = Set(beforeFields.filter(\.injectsCredential).flatMap { $0.upstreams.map(\.canonical) })
        var hints: [RiskHint] = []
        for (route, line) in zip(document.routes, document.routeLines) where !existing.contains(route) {
            let fields = RouteFields(route)
            hints += hostHints(fields, line: line, knownHosts: knownHosts, credentialHosts: credentialHosts)
            hints += matchHints(fields, line: line, before: beforeFields)
        }
        return hints
    }

    private static func hostHints(
        _ fields: RouteFields, line: Int, knownHosts: Set<String>, credentialHosts: Set<String>
    ) -> [RiskHint] {
        var hints: [RiskHint] = []
        for upstream in fields.upstreams {
            let host = upstream.canonical
            if fields.injectsCredential, !credentialHosts.contains(host) {
                hints.append(
                    RiskHint(
                        .critical, "credential-new-host",
                        "a route attaches a credential to requests for \(host), which received none before",
                        line: line))
            } else if !knownHosts.contains(host) {
                hints.append(
                    RiskHint(
                        .warning, "new-upstream-host", "a route sends requests to a new upstream host, \(host)", line: line))
            }
            if fields.injectsCredential, upstream.scheme == "http" {
                hints.append(
                    RiskHint(
                        .warning, "plain-http-credential",
                        "a route attaches a credential to plain http:// requests for \(host): anyone on the path can read it",
                        line: line))
            }
            hints += HostRisks.hints(written: upstream.written, wildcard: false, line: line, subject: "the upstream ")
        }
        return hints
    }

    private static func matchHints(_ fields: RouteFields, line: Int, before: [RouteFields]) -> [RiskHint] {
        var hints: [RiskHint] = []
        let sameHost = before.filter { $0.host == fields.host }
        if let path = fields.path {
            if path.isEmpty || path == "/" || path.contains("*") {
                hints.append(
                    RiskHint(
                        .warning, "broadened-path",
                        "the route matches every path (\(path.isEmpty ? "empty" : path))"
                            + (fields.host.map { " on \($0)" } ?? ""), line: line))
            } else if let narrower = sameHost.compactMap(\.path).first(where: { $0 != path && $0.hasPrefix(path) }) {
                hints.append(
                    RiskHint(
                        .warning, "broadened-path",
                        "the route's path \(path) is broader than the current \(narrower)", line: line))
            }
        }
        let samePath = sameHost.filter { $0.path == fields.path }
        if let methods = fields.methods, !fields.allowsEveryMethod {
            if let current = samePath.compactMap(\.methods).first, !methods.isSubset(of: current) {
                let added = methods.subtracting(current).sorted().joined(separator: ", ")
                hints.append(
                    RiskHint(.warning, "broadened-methods", "the route now also allows \(added)", line: line))
            }
        } else if fields.allowsEveryMethod, samePath.contains(where: { !$0.allowsEveryMethod }) {
            hints.append(
                RiskHint(
                    .warning, "broadened-methods",
                    "the route now allows every method; the current one allowed only some", line: line))
        }
        return hints
    }
}
