import FoundationEssentials

/// What ``BottleQueue/submit(_:)`` did with a proposal.
public enum Submission: Sendable, Equatable {
    /// A new proposal was written to the queue.
    case queued(Proposal)
    /// An identical proposal from this bottle is still pending: the caller
    /// waits on that one instead of queueing a duplicate.
    case attached(Proposal)
    /// An identical proposal was decided while no caller was attached (the
    /// agent's connection had dropped): the retry gets that decision at once.
    case decided(Proposal, Decision)

    /// The proposal the caller now waits on or is answered from.
    public var proposal: Proposal {
        switch self {
        case .queued(let proposal), .attached(let proposal), .decided(let proposal, _): proposal
        }
    }
}

/// One proposal as a reader of the queue sees it.
public struct QueueEntry: Sendable, Equatable {
    /// The proposal.
    public var proposal: Proposal
    /// Its decision; `nil` while pending.
    public var decision: Decision?
    /// Whether an agent's call is attached and waiting for the decision.
    public var waiting: Bool
    /// Whether it has moved to the archive.
    public var archived: Bool
    /// SHA-256 of the proposal file's bytes as they were read (lowercase
    /// hex): what a decision on this entry is bound to. `nil` for an entry
    /// made in memory rather than read from a queue file.
    public var proposalSHA256: String?
    /// Why the host would refuse to apply the proposal as read (its
    /// `proposed_file_sha256` does not match, or the file does not
    /// validate); `nil` when nothing is wrong. Shown in `list` and the console.
    public var problem: String?

    /// When the agent's last call on it ended without the decision (timed
    /// out, cancelled, dropped, or answered `pending`); `nil` while a call is
    /// attached or when none ever stopped. Read from the queue, never guessed.
    public var stoppedWaitingAt: Date?

    /// A decision file found for it that the host did not make
    /// (``DecisionOrigin/forged``), as the file claimed it: set aside, never
    /// believed; shown so the operator learns of it. ``decision`` is then `nil`.
    public var forgedDecision: Decision?

    /// An entry.
    public init(
        proposal: Proposal, decision: Decision?, waiting: Bool, archived: Bool, proposalSHA256: String? = nil,
        problem: String? = nil, stoppedWaitingAt: Date? = nil
    ) {
        self.proposal = proposal
        self.decision = decision
        self.waiting = waiting
        self.archived = archived
        self.proposalSHA256 = proposalSHA256
        self.problem = problem
        self.stoppedWaitingAt = stoppedWaitingAt
    }

    /// The state a reader shows for an undecided entry: `waiting` (a call is
    /// attached), `stopped waiting at T` or plain `pending`.
    public var attendance: String {
        if waiting { return "the agent is waiting" }
        if let stoppedWaitingAt { return "the agent stopped waiting at \(Timestamp.format(stoppedWaitingAt))" }
        return "the agent is not connected"
    }

    /// One line for a reader: the decision as the host judges it
    /// (``Decision/attribution``), or that it is pending; and a forged
    /// decision that was set aside, when there was one.
    public var stateLine: String {
        var line =
            decision?.attribution
            ?? (archived ? "archived by the sidecar without a decision the host made" : "pending; \(attendance)")
        if let forgedDecision { line += "; a decision file was \(forgedDecision.attribution)" }
        return line
    }

    /// Whether it still awaits a decision. (An archived proposal whose only
    /// decision was forged and set aside has none, and is not pending: the
    /// sidecar archived it, and it can no longer be decided.)
    public var isPending: Bool { decision == nil && !archived }
}

/// What ``BottleQueue/recover(clearWaitingMarkers:)`` found and mended.
public struct RecoveryReport: Sendable, Equatable {
    /// Temp files left by a crashed writer, removed.
    public var removedTempFiles: [String] = []
    /// Waiting markers of calls that no longer exist, removed.
    public var clearedWaitingMarkers: [ProposalID] = []
    /// Proposals that were decided but not yet archived when the crash came, now archived.
    public var pendingProposals: Int = 0
    /// Files that could not be read, left in place for a human.
    public var unreadable: [String] = []

    public init() {}
}
