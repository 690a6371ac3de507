extension FleetSchema {
    /// The approvals each proposal needs, as the host that owns it worked
    /// them out with its own policy (``HostApprovalPolicy``): the host decides
    /// how many operators its proposals need, so two consoles with different
    /// settings agree on at least that much; a console may ask for more,
    /// never fewer.
    ///
    /// - `required_approvals`: the higher of the host's `[fleet] approvals`
    ///   (for a proposal with a critical hint) and the `approvals` of the
    ///   first ask rule matching it; 1 when neither asks for more.
    /// - `approvals_rule`: the name of that rule when it set the count
    ///   (what the deciders say: "rule hold-prod on host web-1").
    /// - `critical_approvals`: the host's `[fleet] approvals`, for a Modify
    ///   whose final file has a critical hint the proposal did not.
    ///
    /// A row mirrored before this migration, or by an older relay, keeps the
    /// defaults (1: the consoles' own settings decide, as before).
    static let requiredApprovalsMigration = """
        ALTER TABLE fleet_proposals
            ADD COLUMN required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 16),
            ADD COLUMN approvals_rule text CHECK (approvals_rule IS NULL OR approvals_rule ~ '^[A-Za-z0-9._-]{1,64}$'),
            ADD COLUMN critical_approvals integer NOT NULL DEFAULT 1 CHECK (critical_approvals BETWEEN 1 AND 16);
        """
}
