import Foundation
import Queue

/// A proposal's one decision across the fleet, as `fleet_decisions` holds it.
///
/// Made in two ways: a claim written in the database by an operator on any
/// host (``FleetStore/decide(_:)``, delivery ``Delivery/awaitingHost`` until
/// the owning host's relay applies it), or a decision made on the owning host
/// itself and mirrored (``FleetStore/mirror(_:)``, delivered from the start).
public struct FleetDecisionRow: Sendable, Equatable {
    /// Where the decision stands between the database and the owning host's queue.
    public enum Delivery: String, Sendable, Equatable, CaseIterable {
        /// Made in the database; the owning host's relay has not applied it yet.
        case awaitingHost = "awaiting-host"
        /// In the owning host's queue (applied by its relay, or made there).
        case delivered
        /// The host's queue had another decision first; the row now holds that
        /// one, and ``FleetDecisionRow/supersededClaim`` the claim it replaced.
        case superseded
        /// The owning host refused to apply the claim: the proposal changed
        /// since it was reviewed, or is gone (``FleetDecisionRow/reason``).
        case refused
    }

    /// The host owning the bottle.
    public var host: FleetHostName
    /// The bottle.
    public var bottle: BottleSlug
    /// The proposal.
    public var id: ProposalID
    /// How it ended.
    public var status: DecisionStatus
    /// The operator's notes to the agent.
    public var notes: String
    /// The file as approved, for ``DecisionStatus/modified``.
    public var finalFile: String?
    /// The preset answer's name, when the notes are one.
    public var answer: String?
    /// Who decided (an operator's name, or `agent` / `sidecar`).
    public var decidedBy: String
    /// When.
    public var decidedAt: Date
    /// The digest of the proposal bytes the decider reviewed: what the claim is bound to.
    public var proposalSHA256: String?
    /// Where it stands.
    public var delivery: Delivery
    /// For ``Delivery/superseded``: the claim this row held before, in words.
    public var supersededClaim: String?
    /// For ``Delivery/refused``: why the owning host refused it.
    public var reason: String?
    /// What applying it did on the owning host, once known.
    public var applyState: ApplyOutcome.State?
    /// One line on the apply, once known.
    public var applySummary: String?
    /// The database role that wrote this decision (its login role, set by
    /// the database on insert and whenever the decision is replaced, never
    /// by the writer); `nil` for a row not read from the database, or
    /// written before the column existed.
    public var claimedRole: String?

    /// A decision row; a claim is one with ``Delivery/awaitingHost``.
    public init(
        host: FleetHostName, bottle: BottleSlug, id: ProposalID, status: DecisionStatus, notes: String = "",
        finalFile: String? = nil, answer: String? = nil, decidedBy: String, decidedAt: Date = Date(),
        proposalSHA256: String?, delivery: Delivery = .awaitingHost, supersededClaim: String? = nil, reason: String? = nil,
        applyState: ApplyOutcome.State? = nil, applySummary: String? = nil
    ) {
        self.host = host
        self.bottle = bottle
        self.id = id
        self.status = status
        self.notes = notes
        self.finalFile = finalFile
        self.answer = answer
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.proposalSHA256 = proposalSHA256
        self.delivery = delivery
        self.supersededClaim = supersededClaim
        self.reason = reason
        self.applyState = applyState
        self.applySummary = applySummary
    }

    /// The row of a decision made on the owning host, as the mirror writes it.
    ///
    /// Only what the decision's status can carry is kept: a final file only
    /// for `modified`, and nothing but the status, notes and time of a
    /// decision the sidecar wrote (a withdrawal or expiry, unsealed), whose
    /// other fields are the sidecar's word. A sidecar that wrote a withdrawal
    /// with a `final_file` would otherwise make the row break the table's
    /// CHECK, roll back its host's whole mirror, and stop the relay for
    /// every bottle of the host. For the same reason a decider's name with
    /// characters the table refuses (controls, bidi and zero-width
    /// formatting) is kept with each of them as U+FFFD.
    public init(host: FleetHostName, bottle: BottleSlug, local decision: Decision) {
        let bySidecar = decision.origin == .sidecar
        self.init(
            host: host, bottle: bottle, id: decision.id, status: decision.status, notes: decision.notes,
            finalFile: decision.status == .modified ? decision.finalFile : nil,
            answer: bySidecar ? nil : decision.answer,
            decidedBy: bySidecar ? Self.sidecarDecider(decision) : decision.decidedBy.withoutHiddenCharacters,
            decidedAt: decision.decidedAt, proposalSHA256: decision.proposalSHA256, delivery: .delivered,
            applyState: bySidecar ? nil : decision.apply?.state, applySummary: bySidecar ? nil : decision.apply?.summary)
    }

    /// Who the fleet names for a withdrawal or expiry: the sidecar wrote it,
    /// whatever name the file gives (`agent` and `sidecar` are its own).
    private static func sidecarDecider(_ decision: Decision) -> String {
        ["agent", "sidecar"].contains(decision.decidedBy) ? decision.decidedBy : "sidecar"
    }

    /// The decision as the owning host's queue takes it (what its relay hands to `Applier`).
    public var decision: Decision {
        Decision(
            id: id, status: status, notes: notes, finalFile: finalFile, decidedBy: decidedBy, decidedAt: decidedAt,
            proposalSHA256: proposalSHA256, answer: answer)
    }

    /// Whether `other` is the same decision: same status, same decider, bound to the
    /// same bytes (how a relay recognises its own apply after a crash).
    public func isSameClaim(as other: FleetDecisionRow) -> Bool {
        status == other.status && decidedBy == other.decidedBy && proposalSHA256 == other.proposalSHA256
    }

    /// The decision in words, as `superseded_claim` keeps a replaced claim:
    /// `approved by alice at 2026-12-06T23:10:00Z (bound to 3fa9…)`.
    public var claimText: String {
        var text = "\(status.rawValue) by \(decidedBy) at \(Timestamp.format(decidedAt))"
        if let proposalSHA256 { text += " (bound to \(proposalSHA256.prefix(12)))" }
        if !notes.isEmpty { text += ": \(notes)" }
        return text
    }
}
