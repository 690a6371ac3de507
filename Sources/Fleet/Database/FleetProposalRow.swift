import Foundation
import Queue
import Risk

/// One proposal as its host's relay mirrored it into `fleet_proposals`, with
/// its decision row when it has one.
///
/// The bytes of the proposal file travel with their digest: a decision made
/// on another host is bound to ``proposalSHA256``, and the owning host applies
/// it only while its own file still hashes the same. The database re-checks
/// the pair (a CHECK with PostgreSQL's `sha256()`), so a row whose bytes and
/// digest disagree is never stored.
public struct FleetProposalRow: Sendable, Equatable {
    /// The host owning the bottle.
    public var host: FleetHostName
    /// The bottle.
    public var bottle: BottleSlug
    /// The proposal's id.
    public var id: ProposalID
    /// The tool that proposed it (which file it changes).
    public var tool: Tool
    /// The proposal file's bytes, exactly as the host read them.
    public var proposal: Data
    /// SHA-256 of ``proposal`` (lowercase hex).
    public var proposalSHA256: String
    /// The proposed file's text (from the proposal), for views on other hosts.
    public var proposedFile: String
    /// The agent's justification (agent text: escape before printing).
    public var justification: String
    /// When the sidecar wrote it.
    public var createdAt: Date
    /// When it expires undecided; `nil`: never.
    public var expiresAt: Date?
    /// When the host first saw it (``HostFirstSeen``); the database's time when unknown.
    public var hostFirstSeen: Date?
    /// The host's risk hints, computed from the bytes (stored as JSON).
    public var riskHints: [RiskHint]
    /// The bottle's current file as the host has it (for diffs elsewhere); `nil`: none.
    public var currentFile: String?
    /// SHA-256 of ``currentFile``.
    public var currentSHA256: String?
    /// Why the host would refuse to apply it as read; `nil`: nothing wrong.
    public var problem: String?
    /// Whether an agent's call is attached.
    public var waiting: Bool
    /// Whether it left the host's live queue.
    public var archived: Bool
    /// Its decision, when it has one.
    public var decision: FleetDecisionRow?
    /// How many operators its host says must approve it (1 unless the relay said more).
    public var hostApprovals = HostApprovals()

    /// A row from its parts. `proposalSHA256` defaults to the bytes' digest.
    public init(
        host: FleetHostName, bottle: BottleSlug, id: ProposalID, tool: Tool, proposal: Data, proposalSHA256: String? = nil,
        proposedFile: String, justification: String, createdAt: Date, expiresAt: Date? = nil, hostFirstSeen: Date? = nil,
        riskHints: [RiskHint] = [], currentFile: String? = nil, currentSHA256: String? = nil, problem: String? = nil,
        waiting: Bool = false, archived: Bool = false, decision: FleetDecisionRow? = nil
    ) {
        self.host = host
        self.bottle = bottle
        self.id = id
        self.tool = tool
        self.proposal = proposal
        self.proposalSHA256 = proposalSHA256 ?? SHA256Hex.of(proposal)
        self.proposedFile = proposedFile
        self.justification = justification
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.hostFirstSeen = hostFirstSeen
        self.riskHints = riskHints
        self.currentFile = currentFile
        self.currentSHA256 = currentSHA256 ?? currentFile.map { SHA256Hex.of($0) }
        self.problem = problem
        self.waiting = waiting
        self.archived = archived
        self.decision = decision
    }

    /// The row a relay mirrors for a queue entry: `proposalFile` is the bytes
    /// the entry was read from, `currentFile` the bottle's file now, and the
    /// entry's own decision (made on this host) becomes a delivered decision row.
    /// - Throws: ``FleetStoreError/digestMismatch(_:)`` when the bytes do not
    ///   hash to the entry's digest (the file changed between two reads: read again).
    public init(
        host: FleetHostName, entry: QueueEntry, proposalFile: Data, riskHints: [RiskHint], currentFile: String?,
        hostFirstSeen: Date? = nil
    ) throws(FleetStoreError) {
        let digest = SHA256Hex.of(proposalFile)
        if let read = entry.proposalSHA256, read != digest {
            throw .digestMismatch(
                "the proposal \(entry.proposal.bottle)/\(entry.proposal.id) was read as \(read.prefix(12)) but the bytes "
                    + "given hash to \(digest.prefix(12)); the file changed between two reads")
        }
        let proposal = entry.proposal
        self.init(
            host: host, bottle: proposal.bottle, id: proposal.id, tool: proposal.tool, proposal: proposalFile,
            proposalSHA256: digest, proposedFile: proposal.proposedFile, justification: proposal.justification,
            createdAt: proposal.createdAt, expiresAt: proposal.expiresAt, hostFirstSeen: hostFirstSeen,
            riskHints: riskHints, currentFile: currentFile, problem: entry.problem, waiting: entry.waiting,
            archived: entry.archived,
            decision: entry.decision.map { FleetDecisionRow(host: host, bottle: proposal.bottle, local: $0) })
    }

    /// Whether it still awaits a decision.
    public var isPending: Bool { decision == nil && !archived }
}
