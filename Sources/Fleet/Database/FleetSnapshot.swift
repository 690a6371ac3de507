import Queue

/// What one host's relay mirrors in one go: every bottle of the host, or one
/// bottle, with the proposals its queue lists.
///
/// The scope says what the snapshot is complete for: a proposal of the host
/// (or of the bottle) that the database lists as live but the snapshot does
/// not is no longer in the host's live queue, and is marked archived.
public struct FleetSnapshot: Sendable, Equatable {
    /// What the snapshot is complete for.
    public enum Scope: Sendable, Equatable {
        /// Every bottle of the host: bottles not listed are left as they are
        /// (their rows stay for the record), their live proposals archived.
        case host
        /// One bottle.
        case bottle(BottleSlug)
    }

    /// The host.
    public var host: FleetHostName
    /// What it is complete for.
    public var scope: Scope
    /// The bottles the host has (for ``Scope/host``; the one bottle otherwise).
    public var bottles: [BottleSlug]
    /// The proposals, each with its local decision if any.
    public var proposals: [FleetProposalRow]

    /// A snapshot of the whole host.
    public init(host: FleetHostName, bottles: [BottleSlug], proposals: [FleetProposalRow]) {
        self.host = host
        self.scope = .host
        self.bottles = bottles
        self.proposals = proposals
    }

    /// A snapshot of one bottle.
    public init(host: FleetHostName, bottle: BottleSlug, proposals: [FleetProposalRow]) {
        self.host = host
        self.scope = .bottle(bottle)
        self.bottles = [bottle]
        self.proposals = proposals
    }
}
