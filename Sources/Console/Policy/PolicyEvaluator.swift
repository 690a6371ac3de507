import Queue
import Risk

/// Which standing rule decides a proposal, and why each earlier one did not:
/// the one function the rule runner, `policy explain` and the tests share.
///
/// The floors come first and no rule lowers them:
/// 1. a proposal with a `critical` risk hint is never decided by a rule;
/// 2. a proposal that does not validate, or whose bottle file changed since
///    it was made (the change it describes is no longer the change it
///    would make), asks;
/// 3. a Dockerfile is decided only by a rule with `capability = true`.
/// Then the rules, in order; the first that matches decides (`ask` included).
///
/// What "matches" means depends on the action. An **approve** rule must name
/// every change: the proposal only adds (no host or route removed, no other
/// member or instruction changed), it adds something, and each addition is
/// one the rule names. A **reject** or **ask** rule matches when the proposal
/// adds anything it names, or any proposal in its scope when it names nothing.
public enum PolicyEvaluator {
    /// The outcome for one proposal.
    public struct Verdict: Sendable, Equatable {
        /// The rule that decides (approve or reject); `nil`: a human decides.
        public var rule: PolicyRule?
        /// Why, in one sentence.
        public var reason: String
        /// Each rule tried before the deciding one (or all, when none decides), with why it did not match.
        public var passed: [(rule: String, reason: String)]

        public static func == (lhs: Verdict, rhs: Verdict) -> Bool {
            lhs.rule == rhs.rule && lhs.reason == rhs.reason
                && lhs.passed.map { $0.rule + "\u{0}" + $0.reason } == rhs.passed.map { $0.rule + "\u{0}" + $0.reason }
        }

        /// The action taken: the deciding rule's, or `ask`.
        public var action: PolicyRule.Action { rule?.action ?? .ask }
    }

    /// The verdict of `policy` on `proposal`, given the bottle's current file.
    public static func evaluate(_ proposal: Proposal, current: String?, policy: HostPolicy) -> Verdict {
        let hints = RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        if let critical = hints.first(where: { $0.severity == .critical }) {
            return Verdict(
                rule: nil,
                reason: "it has a critical risk hint (\(critical.rule)); no rule decides that, a human does",
                passed: [])
        }
        if let problem = proposal.contentProblem(current: current) {
            return Verdict(rule: nil, reason: "it cannot be applied as it stands: \(problem)", passed: [])
        }
        if current.map({ SHA256Hex.of($0) }) != proposal.currentFileSHA256 {
            return Verdict(
                rule: nil,
                reason: "the bottle's \(proposal.tool.configFile.fileName) changed since the proposal was made; a human decides",
                passed: [])
        }
        let change = ProposalChange.of(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        let highest = hints.highestSeverity
        var passed: [(rule: String, reason: String)] = []
        for rule in policy.rules {
            if let miss = mismatch(rule, proposal: proposal, highest: highest, change: change) {
                passed.append((rule.name, miss))
                continue
            }
            switch rule.action {
            case .ask:
                return Verdict(rule: nil, reason: "rule \(rule.name) (\(rule.origin)) says ask", passed: passed)
            case .approve, .reject:
                return Verdict(rule: rule, reason: "rule \(rule.name) (\(rule.origin)) matches: \(rule.action.rawValue)", passed: passed)
            }
        }
        return Verdict(
            rule: nil, reason: policy.rules.isEmpty ? "there are no rules" : "no rule matches; a human decides",
            passed: passed)
    }

    /// Why `rule` does not match; `nil` when it does.
    static func mismatch(_ rule: PolicyRule, proposal: Proposal, highest: RiskSeverity?, change: ProposalChange) -> String? {
        if !rule.covers(bottle: proposal.bottle) {
            return "bottle \(proposal.bottle) matches none of \(rule.bottles?.joined(separator: ", ") ?? "")"
        }
        if !rule.covers(tool: proposal.tool) {
            return "it is about \(rule.tools?.map(\.rawValue).sorted().joined(separator: ", ") ?? ""), not \(proposal.tool.rawValue)"
        }
        if proposal.tool == .capabilityBlock, !rule.capability {
            return "a Dockerfile is decided only by a rule with capability = true"
        }
        if let highest, highest > rule.maxRisk {
            return "the proposal's highest risk hint is \(highest.rawValue); the rule's max_risk is \(rule.maxRisk.rawValue)"
        }
        return rule.action == .approve ? namesEveryChange(rule, change) : namesAnyChange(rule, change)
    }

    // MARK: - Approve: every change named

    private static func namesEveryChange(_ rule: PolicyRule, _ change: ProposalChange) -> String? {
        switch change {
        case .unjudgeable(let why):
            return why
        case .allowlist(let added, let removed):
            if let host = removed.first { return "the proposal also removes \(host); an approve rule only adds" }
            guard !added.isEmpty else { return "the proposal adds no host" }
            guard let patterns = rule.hosts else { return "the rule names no hosts" }
            for host in added where !patterns.contains(where: { $0.covers(host) }) {
                return "it adds \(host), which none of the rule's hosts covers"
            }
            return nil
        case .routes(let added, let removed, let otherMembers):
            if otherMembers { return "the proposal changes routes.json outside \"routes\"" }
            if let route = removed.first {
                return "the proposal removes or changes the route \(Escaped(route.description)); an approve rule only adds"
            }
            guard !added.isEmpty else { return "the proposal adds no route" }
            for route in added {
                if let miss = routeMismatch(rule, route) { return miss }
            }
            return nil
        case .dockerfile(let added, let removed):
            if let first = removed.first { return "the proposal changes the Dockerfile: \(first)" }
            guard !added.isEmpty else { return "the proposal adds no instruction" }
            return rule.capability ? nil : "a Dockerfile is decided only by a rule with capability = true"
        }
    }

    /// Why an added route is not one `rule` approves; `nil` when it is.
    private static func routeMismatch(_ rule: PolicyRule, _ route: JSONValue) -> String? {
        if rule.routes?.contains(route) == true { return nil }
        let shown = Escaped(route.description)
        let added: AddedRoute
        switch AddedRoute.read(route) {
        case .failure(let problem): return "\(problem.message): \(shown)"
        case .success(let read): added = read
        }
        guard let upstreams = rule.upstreams else {
            return rule.routes == nil
                ? "the rule names no upstreams" : "the added route \(shown) is none of the rule's routes"
        }
        guard upstreams.contains(where: { $0.covers(added.host) }) else {
            return "the added route's upstream \(added.host) is covered by none of the rule's upstreams"
        }
        for credential in added.credentials where rule.credentials?.contains(credential) != true {
            return "the added route attaches the credential \(PolicyProblem.quoted(credential)), which the rule does not name"
        }
        if let credential = added.credentials.first, added.cleartext, !rule.allowHTTP {
            return
                "the added route sends the credential \(PolicyProblem.quoted(credential)) to \(added.host) without https:// (in cleartext); the rule has no allow_http = true"
        }
        if let allowed = rule.methods, !allowed.contains("*") {
            guard let methods = added.methods else {
                return
                    "the added route names no methods (none, or an empty list: either may mean every method); the rule allows \(allowed.sorted().joined(separator: ", "))"
            }
            for method in methods.sorted() where !allowed.contains(method) {
                return "the added route allows \(Escaped(method)), which the rule does not"
            }
        }
        return nil
    }

    // MARK: - Reject and ask: any change named

    private static func namesAnyChange(_ rule: PolicyRule, _ change: ProposalChange) -> String? {
        guard rule.namesChanges else { return nil }  // scoped by bottle, tool and risk alone
        switch change {
        case .unjudgeable(let why):
            return why
        case .allowlist(let added, _):
            guard let patterns = rule.hosts else { return "the rule names no hosts" }
            return added.contains { host in patterns.contains { $0.covers(host) } }
                ? nil : "the proposal adds no host the rule names"
        case .routes(let added, _, _):
            let named = added.contains { route in
                if rule.routes?.contains(route) == true { return true }
                guard let upstreams = rule.upstreams, case .success(let read) = AddedRoute.read(route) else {
                    return false
                }
                return upstreams.contains { $0.covers(read.host) }
            }
            return named ? nil : "the proposal adds no route the rule names"
        case .dockerfile:
            return "the rule names hosts or routes, not Dockerfile instructions"
        }
    }
}
