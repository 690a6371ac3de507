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

    /// The most approvals any ask rule covering `proposal`'s bottle and tool
    /// asks for, whatever the file says (1 when none asks for more): what an
    /// operator's Modify of it needs on the fleet.
    ///
    /// Why not the rule matching the final file: a rule's host, upstream and
    /// route patterns match what a file adds, so one operator could Modify a
    /// proposal no rule holds into a file a rule holds for two; the host that
    /// owns the rules is not there when the Modify is made, so it says in
    /// advance the most a Modify of this proposal could need.
    public static func modifyApprovals(for proposal: Proposal, policy: HostPolicy) -> Int {
        policy.rules.lazy
            .filter { $0.action == .ask && $0.covers(bottle: proposal.bottle) && $0.covers(tool: proposal.tool) }
            .map { $0.approvals ?? 1 }.max() ?? 1
    }
}
