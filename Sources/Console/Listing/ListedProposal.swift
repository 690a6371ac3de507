import Foundation
import Queue
import Risk

/// One proposal as `list` shows it: every field of the table and of
/// `list --json`, and nothing more — not the proposed file, which the
/// listing needs only to compute the risk hints, and which the
/// ``ListingCache`` therefore need not keep.
public struct ListedProposal: Sendable, Equatable {
    /// What the proposal file says, and its hints: never changed once
    /// listed, so shared between the cache's record and every copy of the
    /// row (a listing copies ten thousand rows several times; a copy is one
    /// reference, not a dozen strings).
    private final class Fields: Sendable, Equatable {
        let id: ProposalID
        let bottle: BottleSlug
        let tool: Tool
        let createdAt: Date
        let expiresAt: Date?
        let justification: String
        let currentFileSHA256: String?
        let proposedFileSHA256: String
        let proposalSHA256: String?
        let problem: String?
        let riskHints: [RiskHint]

        init(
            id: ProposalID, bottle: BottleSlug, tool: Tool, createdAt: Date, expiresAt: Date?, justification: String,
            currentFileSHA256: String?, proposedFileSHA256: String, proposalSHA256: String?, problem: String?,
            riskHints: [RiskHint]
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
            self.riskHints = riskHints
        }

        static func == (lhs: Fields, rhs: Fields) -> Bool {
            lhs === rhs
                || (lhs.id == rhs.id && lhs.bottle == rhs.bottle && lhs.tool == rhs.tool
                    && lhs.createdAt == rhs.createdAt && lhs.expiresAt == rhs.expiresAt
                    && lhs.justification == rhs.justification && lhs.currentFileSHA256 == rhs.currentFileSHA256
                    && lhs.proposedFileSHA256 == rhs.proposedFileSHA256 && lhs.proposalSHA256 == rhs.proposalSHA256
                    && lhs.problem == rhs.problem && lhs.riskHints == rhs.riskHints)
        }
    }

    private let fields: Fields

    public var id: ProposalID { fields.id }
    public var bottle: BottleSlug { fields.bottle }
    public var tool: Tool { fields.tool }
    public var createdAt: Date { fields.createdAt }
    public var expiresAt: Date? { fields.expiresAt }
    /// The agent's reason, whole (`--json` prints it; the table its first line).
    public var justification: String { fields.justification }
    public var currentFileSHA256: String? { fields.currentFileSHA256 }
    public var proposedFileSHA256: String { fields.proposedFileSHA256 }
    /// SHA-256 of the proposal file's bytes as read (``QueueEntry/proposalSHA256``).
    public var proposalSHA256: String? { fields.proposalSHA256 }
    /// Why the host would refuse it (``QueueEntry/problem``).
    public var problem: String? { fields.problem }
    /// Against the bottle's current file (``RiskHints``).
    public var riskHints: [RiskHint] { fields.riskHints }
    public var decision: Decision?
    public var waiting: Bool
    public var stoppedWaitingAt: Date?
    public var archived: Bool

    public init(
        id: ProposalID, bottle: BottleSlug, tool: Tool, createdAt: Date, expiresAt: Date?, justification: String,
        currentFileSHA256: String?, proposedFileSHA256: String, proposalSHA256: String?, problem: String?,
        decision: Decision?, waiting: Bool, stoppedWaitingAt: Date?, archived: Bool, riskHints: [RiskHint]
    ) {
        fields = Fields(
            id: id, bottle: bottle, tool: tool, createdAt: createdAt, expiresAt: expiresAt, justification: justification,
            currentFileSHA256: currentFileSHA256, proposedFileSHA256: proposedFileSHA256,
            proposalSHA256: proposalSHA256, problem: problem, riskHints: riskHints)
        self.decision = decision
        self.waiting = waiting
        self.stoppedWaitingAt = stoppedWaitingAt
        self.archived = archived
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
    public var isPending: Bool { decision == nil && !archived }

    /// Whether its deadline has passed at `now` (``Proposal/isExpired(at:)``).
    public func isExpired(at now: Date = Date()) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    /// `list`'s order: oldest first, then by id.
    public static func oldestFirst(_ lhs: ListedProposal, _ rhs: ListedProposal) -> Bool {
        (lhs.createdAt, lhs.id) < (rhs.createdAt, rhs.id)
    }
}
