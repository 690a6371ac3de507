import Foundation
import Queue

/// One proposal as `list` shows it: every field of the table and of
/// `list --json`, and nothing more — not the proposed file, which the
/// listing needs only to compute the risk hints, and which the
/// ``ListingCache`` therefore need not keep.
public struct ListedProposal: Sendable, Equatable {
    public var id: ProposalID
    public var bottle: BottleSlug
    public var tool: Tool
    public var createdAt: Date
    public var expiresAt: Date?
    /// The agent's reason, whole (`--json` prints it; the table its first line).
    public var justification: String
    public var currentFileSHA256: String?
    public var proposedFileSHA256: String
    /// SHA-256 of the proposal file's bytes as read (``QueueEntry/proposalSHA256``).
    public var proposalSHA256: String?
    /// Why the host would refuse it (``QueueEntry/problem``).
    public var problem: String?
    public var decision: Decision?
    public var waiting: Bool
    public var stoppedWaitingAt: Date?
    public var archived: Bool
    /// Against the bottle's current file (``RiskHints``).
    public var riskHints: [RiskHint]

    public init(
        id: ProposalID, bottle: BottleSlug, tool: Tool, createdAt: Date, expiresAt: Date?, justification: String,
        currentFileSHA256: String?, proposedFileSHA256: String, proposalSHA256: String?, problem: String?,
        decision: Decision?, waiting: Bool, stoppedWaitingAt: Date?, archived: Bool, riskHints: [RiskHint]
    ) {
        self.id = id
        self.bottle = bottle
        self.tool = tool
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.justification = justification
        self.currentFileSHA256 = currentFileSHA256
        self.proposedFileSHA256 = proposedFileSHA256
        self.proposalSHA256 = proposalSHA256
        self.problem = problem
        self.decision = decision
        self.waiting = waiting
        self.stoppedWaitingAt = stoppedWaitingAt
        self.archived = archived
        self.riskHints = riskHints
    }

    /// The row of an entry read from the queue, with its hints.
    public init(_ entry: QueueEntry, riskHints: [RiskHint]) {
        let proposal = entry.proposal
        self.init(
            id: proposal.id, bottle: proposal.bottle, tool: proposal.tool, createdAt: proposal.createdAt,
            expiresAt: proposal.expiresAt, justification: proposal.justification,
            currentFileSHA256: proposal.currentFileSHA256, proposedFileSHA256: proposal.proposedFileSHA256,
            proposalSHA256: entry.proposalSHA256, problem: entry.problem, decision: entry.decision,
            waiting: entry.waiting, stoppedWaitingAt: entry.stoppedWaitingAt, archived: entry.archived,
            riskHints: riskHints)
    }

    /// Whether it still awaits a decision.
    public var isPending: Bool { decision == nil }

    /// `list`'s order: oldest first, then by id.
    public static func oldestFirst(_ lhs: ListedProposal, _ rhs: ListedProposal) -> Bool {
        (lhs.createdAt, lhs.id) < (rhs.createdAt, rhs.id)
    }
}
