/// What ``FleetStore/decide(_:)`` did with a claim.
public enum FleetDecideResult: Sendable, Equatable {
    /// The claim is the proposal's decision (as stored, with the database's time).
    case won(FleetDecisionRow)
    /// Another decision was there first: this one, and who made it.
    case alreadyDecided(FleetDecisionRow)
    /// The proposal's bytes are no longer those the claim was bound to:
    /// nothing was written; review it again (`current` is its digest now).
    case proposalChanged(current: String)
    /// The proposal left its host's live queue undecided (the sidecar
    /// archived it); nothing was written.
    case proposalArchived
    /// No such proposal in the database.
    case unknownProposal
}
