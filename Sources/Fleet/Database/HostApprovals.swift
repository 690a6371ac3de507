/// How many distinct operators must approve a proposal, as the host that
/// owns it says (mirrored per proposal: `required_approvals`,
/// `approvals_rule`, `critical_approvals`).
///
/// Why the host says it: a console's own `[fleet] approvals` differs from
/// machine to machine, and no console knows the owning host's rules. The
/// host's relay works it out with the policy its own console uses
/// (``HostApprovalPolicy``); deciders require at least this.
public struct HostApprovals: Sendable, Equatable {
    /// The approvals the proposal as proposed needs on its host.
    public var required: Int
    /// The ask rule that set ``required``; `nil`: the host's `[fleet]
    /// approvals` for a critical hint did, or nothing asked for more than one.
    public var rule: String?
    /// What an operator's Modify of the proposal needs there: the higher of
    /// the host's `[fleet] approvals` (a Modify may make a harmless proposal
    /// critical) and the most any ask rule covering the bottle and tool asks
    /// for (a Modify may add what a rule holds;
    /// ``Console/PolicyEvaluator/modifyApprovals(for:policy:)``). Stored in
    /// `critical_approvals`.
    public var critical: Int

    public init(required: Int = 1, rule: String? = nil, critical: Int = 1) {
        self.required = max(1, required)
        self.rule = rule
        self.critical = max(1, critical)
    }
}
