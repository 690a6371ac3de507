import FoundationEssentials

/// How a proposal ended.
///
/// Only ``approved`` and ``modified`` are approvals; every other status, and
/// anything that fails to decode, is not — silence is never consent.
public enum DecisionStatus: String, Codable, Sendable, CaseIterable {
    /// The operator approved the proposed file as it is.
    case approved
    /// The operator approved a changed version (``Decision/finalFile``).
    case modified
    /// The operator refused it; notes say why.
    case rejected
    /// The agent cancelled the call before a decision.
    case withdrawn
    /// The proposal's deadline passed undecided.
    case expired

    /// Whether this status lets the change through.
    public var isApproval: Bool { self == .approved || self == .modified }
}

/// The one decision a proposal gets, written as `<id>.decision.json`.
///
/// Created exclusively (the first writer wins, see ``BottleQueue/decide(_:)``);
/// after that only its ``apply`` outcome may be filled in, by the process
/// that won.
public struct Decision: Codable, Sendable, Equatable {
    /// The queue-format version this decision was written in.
    public var format: Int
    /// The proposal decided.
    public var id: ProposalID
    /// How it ended.
    public var status: DecisionStatus
    /// The operator's notes to the agent (required for a rejection).
    public var notes: String
    /// The file as the operator approved it: set for ``DecisionStatus/modified``.
    public var finalFile: String?
    /// Who decided: the operator's user name, or `agent` / `sidecar` for
    /// withdrawn and expired.
    public var decidedBy: String
    /// When.
    public var decidedAt: Date
    /// What applying the approved file did; `nil` until an apply step ran.
    public var apply: ApplyOutcome?
    /// SHA-256 of the proposal file exactly as the operator reviewed it
    /// (``QueueEntry/proposalSHA256``): the decision is bound to those bytes,
    /// and applying refuses when the queue's file no longer hashes the same.
    /// `nil` only in decisions the sidecar writes (withdrawn, expired).
    public var proposalSHA256: String?
    /// When the access this approval granted ends: set for a time-boxed
    /// grant (`approve --for`), `nil` for good. The host's grant ledger is
    /// the truth; the host updates this field when a grant is extended or
    /// revoked so the agent's status answer says the same, and never reads it back.
    public var expiresAt: Date?
    /// The name of the operator's preset answer (`[answers]` in host.toml)
    /// whose text is in ``notes``, so an agent's program can act on the
    /// name rather than parse the words; `nil` when the notes were typed.
    public var answer: String?
    /// The host's MAC over every other field of the file (``DecisionSeal``):
    /// what tells a decision the host made from one the sidecar wrote.
    /// `nil` in decisions the sidecar writes and in those made in memory.
    public var hostMAC: String?
    /// Who made it, as the host judged when it read the file; not stored.
    public var origin: DecisionOrigin = .unverified

    /// The longest `decided_by` and `notes` the host accepts from a decision file.
    public static let maximumNotesSize = 65_536

    /// A decision on `id`.
    public init(
        id: ProposalID, status: DecisionStatus, notes: String = "", finalFile: String? = nil,
        decidedBy: String, decidedAt: Date = Date(), apply: ApplyOutcome? = nil, proposalSHA256: String? = nil,
        expiresAt: Date? = nil, answer: String? = nil
    ) {
        self.format = QueueFormat.version
        self.id = id
        self.status = status
        self.notes = notes
        self.finalFile = finalFile
        self.decidedBy = decidedBy
        self.decidedAt = Timestamp.normalized(decidedAt)
        self.apply = apply
        self.proposalSHA256 = proposalSHA256
        self.expiresAt = expiresAt.map(Timestamp.normalized)
        self.answer = answer
    }

    /// Checks the shape of the fields a decision file could forge before the
    /// host shows or records them. - Returns: what is wrong, or `nil`.
    public func shapeProblem() -> String? {
        if let digest = proposalSHA256, !SHA256Hex.isWellFormed(digest) {
            return "proposal_sha256 is not 64 lowercase hex digits"
        }
        if let answer, !Self.isAnswerName(answer) {
            return "answer is not a preset answer's name (1 to 64 letters, digits, '-', '_' and '.')"
        }
        if let hostMAC, hostMAC.utf8.count != 64 { return "host_mac is not 64 hex digits" }
        if decidedBy.utf8.count > 256 { return "decided_by is \(decidedBy.utf8.count) bytes; the limit is 256" }
        if notes.utf8.count > Self.maximumNotesSize {
            return "notes is \(notes.utf8.count) bytes; the limit is \(Self.maximumNotesSize)"
        }
        if let finalFile, finalFile.utf8.count > ProposedFileValidator.maximumSize {
            return "final_file is \(finalFile.utf8.count) bytes; the limit is \(ProposedFileValidator.maximumSize)"
        }
        for digest in [apply?.previousSHA256, apply?.newSHA256].compactMap({ $0 }) where !SHA256Hex.isWellFormed(digest) {
            return "an apply hash is not 64 lowercase hex digits"
        }
        if let apply, apply.summary.utf8.count + (apply.outputTail?.utf8.count ?? 0) > Self.maximumNotesSize {
            return "the apply outcome is longer than \(Self.maximumNotesSize) bytes"
        }
        return nil
    }

    /// Whether `name` can name a preset answer: 1 to 64 ASCII letters,
    /// digits, `-`, `_` and `.`, so it is safe on a terminal and in a file name.
    public static func isAnswerName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }

    /// The prefix of ``decidedBy`` for a decision a standing rule made: `policy:<rule name>`.
    public static let policyPrefix = "policy:"

    /// The standing rule that made this decision, when one did (`decided_by` is `policy:<name>`).
    public var decidingRule: String? {
        decidedBy.hasPrefix(Self.policyPrefix) ? String(decidedBy.dropFirst(Self.policyPrefix.count)) : nil
    }

    /// The file that the decision lets through, if it is an approval.
    public func approvedFile(of proposal: Proposal) -> String? {
        switch status {
        case .approved: proposal.proposedFile
        case .modified: finalFile
        default: nil
        }
    }

    /// Whether a waiting caller should be answered now: any non-approval, or
    /// an approval whose apply step is not still running.
    public var isFinal: Bool {
        !(status.isApproval && apply?.state == .pending)
    }

    enum CodingKeys: String, CodingKey {
        case format, id, status, notes, apply, answer
        case finalFile = "final_file"
        case decidedBy = "decided_by"
        case decidedAt = "decided_at"
        case proposalSHA256 = "proposal_sha256"
        case expiresAt = "expires_at"
        case hostMAC = "host_mac"
    }
}

/// What happened when an approved file was applied to the bottle.
public struct ApplyOutcome: Codable, Sendable, Equatable {
    /// Where the apply step stands.
    public enum State: String, Codable, Sendable {
        /// The decision is taken; the file is being written and reloaded.
        case pending
        /// Written and reloaded.
        case applied
        /// Writing or reloading failed; the previous file was put back.
        case failed
        /// No apply step ran (for example, the operator chose not to).
        case skipped
    }

    /// Where the apply step stands.
    public var state: State
    /// One line for the agent and the operator: what was done, or why not.
    public var summary: String
    /// The reload command that ran, as an argument vector.
    public var command: [String]?
    /// The reload command's exit status.
    public var exitStatus: Int32?
    /// The last lines of the reload command's output.
    public var outputTail: String?
    /// SHA-256 of the bottle's file before the change (`nil`: there was none).
    public var previousSHA256: String?
    /// SHA-256 of the file written.
    public var newSHA256: String?

    /// An apply outcome.
    public init(
        state: State, summary: String, command: [String]? = nil, exitStatus: Int32? = nil,
        outputTail: String? = nil, previousSHA256: String? = nil, newSHA256: String? = nil
    ) {
        self.state = state
        self.summary = summary
        self.command = command
        self.exitStatus = exitStatus
        self.outputTail = outputTail
        self.previousSHA256 = previousSHA256
        self.newSHA256 = newSHA256
    }

    enum CodingKeys: String, CodingKey {
        case state, summary, command
        case exitStatus = "exit_status"
        case outputTail = "output_tail"
        case previousSHA256 = "previous_sha256"
        case newSHA256 = "new_sha256"
    }
}
