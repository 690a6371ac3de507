import Foundation
import Queue

/// One line of the audit log: a decision, an apply, a rollback, or a grant's
/// end (`expire`, `revoke`) or extension.
///
/// Written by the host only (the console, the CLI, the apply step); the
/// agent's text is kept out of it except as hashes, so the log can be
/// printed and shared without carrying the agent's words.
public struct AuditRecord: Codable, Sendable, Equatable {
    /// What happened.
    public enum Event: String, Codable, Sendable {
        /// An operator decided a proposal (approved, modified or rejected).
        case decision
        /// An approved file was written and reloaded, or that failed.
        case apply
        /// An operator put back an earlier version of a file.
        case rollback
        /// A time-boxed grant reached its end and what it held was taken out (or that failed).
        case expire
        /// An operator ended a grant early and what it held was taken out (or that failed).
        case revoke
        /// An operator lengthened a live grant.
        case extend
        /// A decision file the host did not make was found and set aside
        /// (docs/security.md, "Only the host decides"): `by` is the host
        /// user who found it, `status` what the file claimed, `new_sha256`
        /// the file's hash.
        case forgedDecision = "forged-decision"
    }

    /// The audit-log format version.
    public var format: Int = AuditRecord.formatVersion
    /// When it happened.
    public var at: Date
    /// What happened.
    public var event: Event
    /// Who did it: the operator's user name.
    public var by: String
    /// The bottle.
    public var bottle: BottleSlug
    /// The file concerned; `nil` only for a forged decision whose proposal
    /// could not be read (the file it would have changed is unknown).
    public var file: ConfigFile?
    /// The tool the agent called (`nil` for a rollback).
    public var tool: Tool?
    /// The proposal (`nil` for a rollback).
    public var id: ProposalID?
    /// The decision status, or for an apply and a rollback the outcome state
    /// (`applied`, `failed`).
    public var status: String
    /// SHA-256 of the file before (`nil`: there was none).
    public var oldSHA256: String?
    /// SHA-256 of the file after, or as proposed for a decision (`nil`: none).
    public var newSHA256: String?
    /// The apply or rollback outcome, when there was one.
    public var apply: ApplyOutcome?
    /// SHA-256 of the previous line of the log (64 zeros for the first).
    public var prev: String = ""

    /// The format written by this build.
    public static let formatVersion = 1

    /// A record; ``prev`` is filled in by ``AuditLog/append(_:)``.
    public init(
        at: Date = Date(), event: Event, by: String, bottle: BottleSlug, file: ConfigFile?, tool: Tool?,
        id: ProposalID?, status: String, oldSHA256: String?, newSHA256: String?, apply: ApplyOutcome? = nil
    ) {
        self.at = Timestamp.normalized(at)
        self.event = event
        self.by = by
        self.bottle = bottle
        self.file = file
        self.tool = tool
        self.id = id
        self.status = status
        self.oldSHA256 = oldSHA256
        self.newSHA256 = newSHA256
        self.apply = apply
    }

    enum CodingKeys: String, CodingKey {
        case format, at, event, by, bottle, file, tool, id, status, apply, prev
        case oldSHA256 = "old_sha256"
        case newSHA256 = "new_sha256"
    }
}
