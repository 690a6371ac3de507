import FoundationEssentials

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

    /// The longest justification the host reads, in bytes of UTF-8: a reason
    /// for a config change, not a document; the bound keeps a hostile value
    /// out of the operator's screen and records.
    public static let maximumJustificationSize = 65_536

    /// Checks the shape of every field a proposal file could forge, so the
    /// host never shows or records a value it did not bound: the hashes are
    /// digests (64 lowercase hex digits), the proposed file and the
    /// justification within their limits. Whether the proposed file matches
    /// its hash, and whether it is valid, is ``contentProblem(current:)``'s.
    /// - Returns: what is wrong, or `nil`.
    public func shapeProblem() -> String? {
        if !SHA256Hex.isWellFormed(proposedFileSHA256) {
            return "proposed_file_sha256 is not 64 lowercase hex digits (\(proposedFileSHA256.utf8.count) bytes)"
        }
        if let current = currentFileSHA256, !SHA256Hex.isWellFormed(current) {
            return "current_file_sha256 is not 64 lowercase hex digits (\(current.utf8.count) bytes)"
        }
        if proposedFile.utf8.count > ProposedFileValidator.maximumSize {
            return "proposed_file is \(proposedFile.utf8.count) bytes; the limit is \(ProposedFileValidator.maximumSize)"
        }
        if justification.utf8.count > Self.maximumJustificationSize {
            return "justification is \(justification.utf8.count) bytes; the limit is \(Self.maximumJustificationSize)"
        }
        return nil
    }

    /// Why the host refuses to apply this proposal as it stands: its
    /// `proposed_file_sha256` does not hash its file, or the file fails the
    /// validator the sidecar should have run. The sidecar is not trusted to
    /// have checked either.
    /// - Parameter current: the bottle's current file (for the no-op check), if known.
    /// - Returns: what is wrong, or `nil`.
    public func contentProblem(current: String? = nil) -> String? {
        if let problem = hashProblem() { return problem }
        do throws(ValidationError) {
            try ProposedFileValidator.validate(proposedFile, for: tool, current: current)
        } catch {
            let first = error.description.split(separator: "\n").first.map(String.init) ?? "invalid"
            return "the proposed file does not validate: \(first)"
        }
        return nil
    }

    /// The cheap half of ``contentProblem(current:)``: shapes and whether
    /// `proposed_file_sha256` hashes the proposed file. Listing thousands of
    /// proposals runs this; the validator runs where one proposal is shown
    /// or applied.
    public func hashProblem() -> String? {
        if let shape = shapeProblem() { return shape }
        if SHA256Hex.of(proposedFile) != proposedFileSHA256 {
            return "proposed_file_sha256 does not match the proposed file"
        }
        return nil
    }

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

    /// A proposal exactly as a queue file states it: nothing computed,
    /// nothing normalised (the listing's reader, ``listed(from:path:)``,
    /// must give what `JSONDecoder` gives).
    init(
        format: Int, id: ProposalID, bottle: BottleSlug, tool: Tool, proposedFile: String, justification: String,
        currentFileSHA256: String?, proposedFileSHA256: String, createdAt: Date, expiresAt: Date?
    ) {
        self.format = format
        self.id = id
        self.bottle = bottle
        self.tool = tool
        self.proposedFile = proposedFile
        self.justification = justification
        self.currentFileSHA256 = currentFileSHA256
        self.proposedFileSHA256 = proposedFileSHA256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
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
