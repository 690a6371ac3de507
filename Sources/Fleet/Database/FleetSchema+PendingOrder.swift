extension FleetSchema {
    /// The pending proposals in the order every list shows them (oldest
    /// first; host, bottle and id break ties), holding the whole key.
    ///
    /// Why: at 100 hosts × 100 bottles × 10 pending, a list shows a page of
    /// 100,000 rows and says how many there are. With the key in the index,
    /// the count and the page's keys are an index-only scan (no table row is
    /// read for the 99,800 not shown, nor for the anti-join with
    /// `fleet_decisions`), and the order needs no sort. It replaces migration
    /// 0's index on `created_at` alone, whose work it does.
    static let pendingOrderMigration = """
        CREATE INDEX fleet_proposals_pending_order ON fleet_proposals (created_at, host, bottle, id) WHERE NOT archived;
        DROP INDEX fleet_proposals_pending;
        """
}
