import Queue

/// Risk hints for a proposal: what the change it proposes could grant.
///
/// Pure functions of the proposed file and the bottle's current file — no
/// I/O, no clock — so the console, `show`, `list`, the web page and
/// notifications all show the same hints, and each rule is tested alone
/// (docs/risk-hints.md lists every rule with an example). Only what the
/// proposal *adds* is hinted: a `*.example.com` already in the current
/// allowlist is not this proposal's doing.
public enum RiskHints {
    /// The hints for replacing `current` (`nil`: no current file) with
    /// `proposed` through `tool`, most severe first, then by line.
    ///
    /// A proposed file that does not validate gets no hints: it cannot be
    /// applied, and the console says so on its own.
    public static func assess(tool: Tool, proposed: String, current: String?) -> [RiskHint] {
        let hints: [RiskHint]
        switch tool {
        case .pipelockBlock: hints = AllowlistRisks.assess(proposed: proposed, current: current)
        case .credProxyBlock: hints = RoutesRisks.assess(proposed: proposed, current: current)
        case .capabilityBlock: hints = DockerfileRisks.assess(proposed: proposed, current: current)
        }
        return hints.sorted { lhs, rhs in
            if lhs.severity != rhs.severity { return lhs.severity > rhs.severity }
            return (lhs.line ?? 0) < (rhs.line ?? 0)
        }
    }
}
