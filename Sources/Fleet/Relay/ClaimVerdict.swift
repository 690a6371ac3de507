import Queue

/// What the owning host's relay does with a decision claimed in the database,
/// given the proposal as its own queue has it.
///
/// The queue on the host that owns the bottle is where a decision takes
/// effect, so the claim is checked against it, never trusted: it is applied
/// only when the proposal is still pending there and its file still hashes
/// to the digest the deciding operator saw. A decision already in the queue
/// is the answer whatever the claim says — and when it *is* the claim (same
/// status, operator and digest) it is the relay's own apply, cut off by a
/// crash before it was recorded in the database, not a second decision.
public enum ClaimVerdict: Sendable, Equatable {
    /// Pending, the same bytes: apply (or record) the claim through `Applier`.
    case apply
    /// The queue's decision is this claim: record it as delivered.
    case delivered(Decision)
    /// The queue has another decision (made on the host first): it stands, and the claim is superseded.
    case superseded(Decision)
    /// The claim cannot be applied; the reason is for the deciding operator.
    case refused(String)

    /// The verdict on a claim of `status` by `decidedBy`, bound to `proposalSHA256`, for `entry`
    /// (`nil`: the queue has no such proposal, live or archived).
    public static func of(
        status: DecisionStatus, decidedBy: String, proposalSHA256: String?, entry: QueueEntry?, host: String
    ) -> ClaimVerdict {
        // An operator approves, modifies or rejects; a withdrawal is the agent's word and an expiry
        // the host's, so a claim of either (the database refuses them from operator roles) is no one's.
        guard status == .approved || status == .modified || status == .rejected else {
            return .refused(
                "a claim may approve, modify or reject; \(status.rawValue) is the agent's or the host's word, "
                    + "not an operator's; nothing was applied")
        }
        guard let entry else {
            return .refused("the proposal is no longer in host \(host)'s queue; nothing was applied")
        }
        if let local = entry.decision {
            let same = local.status == status && local.decidedBy == decidedBy && local.proposalSHA256 == proposalSHA256
            return same ? .delivered(local) : .superseded(local)
        }
        if entry.archived {
            return .refused(
                "the agent withdrew the proposal or it expired before host \(host) received the decision; nothing was applied")
        }
        guard let proposalSHA256, entry.proposalSHA256 == proposalSHA256 else {
            return .refused(
                "the proposal changed since \(decidedBy) reviewed it (reviewed sha256 \(proposalSHA256?.prefix(12) ?? "none"), "
                    + "now \(entry.proposalSHA256?.prefix(12) ?? "unreadable")); nothing was applied: review it again")
        }
        // A rejection needs no valid file; an approval of one the host would not apply is refused now.
        if status.isApproval, let problem = entry.problem {
            return .refused("host \(host) refuses to apply the proposal: \(problem)")
        }
        return .apply
    }
}
