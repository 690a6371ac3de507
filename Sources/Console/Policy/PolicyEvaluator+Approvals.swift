import Queue
import Risk

extension PolicyEvaluator {
    /// The ask rule that sets how many operators must approve `proposal`
    /// through the fleet: the first ask rule, in order, that matches it;
    /// `nil` when none does. Its ``PolicyRule/approvals`` (one when not
    /// written) is the count; the fleet's relay mirrors it per proposal.
    ///
    /// The same matcher as ``evaluate(_:current:policy:)``, with two of a
    /// rule's ceilings lifted for a rule that writes `approvals`: its
    /// `max_risk` and the Dockerfile floor (`capability = true`). Those
    /// ceilings keep a rule from *deciding* a risky proposal; a count of
    /// approvals decides nothing, and a riskier proposal, or a Dockerfile,
    /// must never need fewer approvals than a harmless one of the same
    /// bottle. The floors of ``evaluate(_:current:policy:)`` do not apply
    /// either: a critical proposal asks anyway, and it is the one a second
    /// pair of eyes is for.
    public static func approvalsRule(for proposal: Proposal, current: String?, policy: HostPolicy) -> PolicyRule? {
        let hints = RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        let change = ProposalChange.of(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        for rule in policy.rules where rule.action == .ask {
            var matched = rule
            if rule.approvals != nil {
                matched.maxRisk = .critical
                matched.capability = true
            }
            if mismatch(matched, proposal: proposal, highest: hints.highestSeverity, change: change) == nil {
                return rule
            }
        }
        return nil
    }
}
