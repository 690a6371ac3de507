import Fleet

/// What `web --database` adds to the web console: the fleet database the
/// pages read and decide through, its operators, and the approval threshold.
///
/// With it the page is a view of every host's proposals as their relays
/// mirrored them, and a decision is a claim in the database
/// (``FleetStore``'s one-decision rule) that the owning host's relay applies;
/// without it the page is this host's queue, as before.
public struct FleetWeb: Sendable {
    public let store: FleetStore
    public let operators: OperatorStore
    public let approvals: FleetApprovals
    public let threshold: ApprovalThreshold
    /// The most rows a list page shows, the oldest first; the rest are
    /// reached by the filters and the next-page links (a page of 100,000 rows
    /// helps no one and costs seconds).
    public var listLimit = 200

    public init(store: FleetStore, operators: OperatorStore, approvals: FleetApprovals, threshold: ApprovalThreshold) {
        self.store = store
        self.operators = operators
        self.approvals = approvals
        self.threshold = threshold
    }
}
