import Foundation

/// A change a bottle's agent asked for: one full config file and why.
///
/// Written once by the sidecar as `<id>.proposal.json` and never changed
/// after (see docs/queue-format.md). Everything the operator needs to decide
/// is here, including the SHA-256 of the bottle's *current* file when the
/// proposal was made, so the console and the apply step can tell the
/// operator when the file changed underneath the proposal. (The seed hashed
/// the proposed file here by mistake; that hash is kept separately, as the
/// key that makes an identical retry re-attach instead of queueing twice.)
public struct Proposal: Codable, Sendable, Equatable {
    /// The queue-format version this proposal was written in.
    public var format: Int
    /// Server-generated id.
    public var id: ProposalID
    /// The bottle whose agent proposed it.
    public var bottle: BottleSlug
    /// Which tool was called, and so which file is proposed.
    public var tool: Tool
    /// The full proposed file.
    public var proposedFile: String
    /// The agent's reason, shown to the operator.
    public var justification: String
    /// SHA-256 (lowercase hex) of the bottle's current file at proposal time;
    /// `nil` when the bottle had no such file.
    public var currentFileSHA256: String?
    /// SHA-256 of ``proposedFile``: with ``tool`` and ``bottle``, what makes
    /// two proposals identical.
    public var proposedFileSHA256: String
    /// When the sidecar queued it.
    public var createdAt: Date
    /// When it expires undecided, if it has a deadline.
    public var expiresAt: Date?

    /// A new proposal with a fresh id.
    public init(
        id: ProposalID = .generate(), bottle: BottleSlug, tool: Tool, proposedFile: String,
        justification: String, currentFileSHA256: String?, createdAt: Date = Date(),
        expiresAt: Date? = nil
    ) {
        self.format = QueueFormat.version
        self.id = id
        self.bottle = bottle
        self.tool = tool
        self.proposedFile = proposedFile
        self.justification = justification
        self.currentFileSHA256 = currentFileSHA256
        self.proposedFileSHA256 = SHA256Hex.of(proposedFile)
        self.createdAt = Timestamp.normalized(createdAt)
        self.expiresAt = expiresAt.map(Timestamp.normalized)
    }

    /// Whether the deadline has passed at `now`.
    public func isExpired(at now: Date = Date()) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    enum CodingKeys: String, CodingKey {
        case format, id, bottle, tool, justification
        case proposedFile = "proposed_file"
        case currentFileSHA256 = "current_file_sha256"
        case proposedFileSHA256 = "proposed_file_sha256"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }
}
