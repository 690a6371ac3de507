/// What a decision row becomes when its host's queue holds a decision of its
/// own (``FleetStore/mirror(_:)``): the host's queue is the truth about what
/// was applied, the row keeps what it knew.
enum FleetMirrorRules {
    /// The row to store, given the host's `local` decision and the `stored` row.
    static func merge(local: FleetDecisionRow, stored: FleetDecisionRow) -> FleetDecisionRow {
        var target: FleetDecisionRow
        if stored.isSameClaim(as: local) {
            // The claim was applied (perhaps by a relay killed before it said so),
            // or a delivered row is read again: only the apply outcome can move on.
            target = stored
            if stored.delivery == .awaitingHost || stored.delivery == .refused {
                target.delivery = .delivered
                target.reason = nil
            }
        } else {
            // Another decision reached the queue first: the row takes it and keeps
            // the claim it held in words (a row superseded before keeps the first claim).
            target = local
            target.delivery = .superseded
            target.supersededClaim = stored.delivery == .superseded ? stored.supersededClaim : stored.claimText
            target.reason = nil
        }
        target.applyState = local.applyState ?? stored.applyState
        target.applySummary = local.applySummary ?? stored.applySummary
        return target
    }
}
