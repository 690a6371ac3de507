import Queue
import Risk

/// How many distinct operators must approve a proposal before a decider
/// (`web --database`, `approve|modify --database`) writes the decision, and
/// why: the higher of what the owning host says (``HostApprovals``, mirrored
/// per proposal by its relay) and the decider's own `[fleet] approvals` for a
/// critical file (``ApprovalThreshold``). A stricter console raises the
/// host's requirement; none lowers it.
public struct ApprovalRequirement: Sendable, Equatable {
    /// The approvals needed (1: one operator decides).
    public let count: Int
    /// Where the count comes from ("rule hold-prod on host web-1"); empty for one.
    public let source: String

    /// What applying `file` (the proposed file, or a Modify's final one) for `row` needs, with the
    /// decider's own `threshold`.
    public init(for row: FleetProposalRow, applying file: String, threshold: ApprovalThreshold) {
        let host = row.hostApprovals
        // A Modify may make a harmless proposal critical, or add what a rule holds: the host said in
        // advance what any Modify of this proposal needs (``HostApprovals/critical``).
        let isModify = file != row.proposedFile
        let hostCount = max(host.required, isModify ? host.critical : 1)
        let local = threshold.required(for: row.riskHints, applying: file, tool: row.tool, current: row.currentFile)
        if hostCount >= local, hostCount > 1 {
            count = hostCount
            source =
                if let rule = host.rule, host.required == hostCount {
                    "rule \(rule) on host \(row.host)"
                } else if isModify, host.critical == hostCount {
                    "a Modify: the most host \(row.host)'s rules or [fleet] approvals ask for this bottle and tool"
                } else {
                    "a critical risk hint, [fleet] approvals on host \(row.host)"
                }
        } else if local > 1 {
            count = local
            source = "a critical risk hint, [fleet] approvals \(threshold.origin)"
        } else {
            count = 1
            source = ""
        }
    }

    /// "needs 2 approvals from distinct operators (rule hold-prod on host web-1)".
    public var needs: String { "needs \(count) approvals from distinct operators (\(source))" }

    /// "1 of 2 so far, by alice" / "none of 2 so far".
    public func progress(_ approvers: [String]) -> String {
        approvers.isEmpty
            ? "none of \(count) so far" : "\(approvers.count) of \(count) so far, by \(approvers.joined(separator: ", "))"
    }
}
