import Foundation
import Logging
import PostgresNIO
import Queue
import Risk

/// Approvals toward a proposal's threshold: a proposal that needs N
/// approvals (``ApprovalThreshold``) collects one row per operator here, and
/// the decision row is written (``FleetStore``'s `decide`) when N distinct
/// operators have approved the same bytes. A rejection needs no tally: one
/// rejects.
public struct FleetApprovals: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// One operator's approval of a proposal as it hashed to `proposalSHA256`,
    /// for the file `fileSHA256` (the proposed file for approve, the
    /// operator's final file for modify).
    public struct Approval: Sendable, Equatable {
        public let operatorName: String
        public let proposalSHA256: String
        public let fileSHA256: String
        public let notes: String
        public let approvedAt: Date
    }

    /// Records `operatorName`'s approval of the proposal `proposalSHA256`
    /// applying the file `fileSHA256` (replacing an earlier one of theirs,
    /// which may have been of other bytes) and returns every approval of that
    /// same proposal and file by a current operator, oldest first.
    ///
    /// Why the file too: without it Alice's "approve as proposed" would count
    /// toward Bob's modified file, which Alice never saw.
    public func approve(
        host: String, bottle: String, id: String, operatorName: String, proposalSHA256: String, fileSHA256: String,
        notes: String
    ) async throws -> [Approval] {
        _ = try await client.query(
            """
            INSERT INTO fleet_approvals (host, bottle, id, operator, proposal_sha256, file_sha256, notes)
            VALUES (\(host), \(bottle), \(id), \(operatorName), \(proposalSHA256), \(fileSHA256), \(notes))
            ON CONFLICT (host, bottle, id, operator) DO UPDATE
            SET proposal_sha256 = EXCLUDED.proposal_sha256, file_sha256 = EXCLUDED.file_sha256,
                notes = EXCLUDED.notes, approved_at = now()
            """, logger: logger)
        return try await approvals(host: host, bottle: bottle, id: id).filter {
            $0.proposalSHA256 == proposalSHA256 && $0.fileSHA256 == fileSHA256
        }
    }

    /// Every approval recorded for the proposal by an operator who still is
    /// one (an approval of an operator removed since does not count, nor
    /// does it come back when the name is added again), oldest first.
    public func approvals(host: String, bottle: String, id: String) async throws -> [Approval] {
        let rows = try await client.query(
            """
            SELECT a.operator, a.proposal_sha256, a.file_sha256, a.notes, a.approved_at
            FROM fleet_approvals a JOIN fleet_operators o ON o.name = a.operator AND a.approved_at >= o.added_at
            WHERE a.host = \(host) AND a.bottle = \(bottle) AND a.id = \(id) ORDER BY a.approved_at, a.operator
            """, logger: logger)
        var approvals: [Approval] = []
        for try await (name, digest, file, notes, at) in rows.decode((String, String, String, String, Date).self) {
            approvals.append(
                Approval(operatorName: name, proposalSHA256: digest, fileSHA256: file, notes: notes, approvedAt: at))
        }
        return approvals
    }
}

/// How many distinct operators a console (`web --database`, `approve
/// --database`) asks for itself: `[fleet] approvals` for a proposal with a
/// `critical` risk hint, one for any other. What a decider requires is the
/// higher of this and what the owning host asks (``ApprovalRequirement``).
///
/// Why only critical ones: a second pair of eyes costs a second person's
/// time; the hints the host computes already single out the changes that
/// open the most (a wildcard, a secret-shaped host, a privileged Dockerfile).
public struct ApprovalThreshold: Sendable, Equatable {
    /// The approvals a critical proposal needs (1: no threshold).
    public let critical: Int
    /// Where the setting is, for messages: "in /etc/…/host.toml", "of this console".
    public let origin: String

    public init(critical: Int = 1, origin: String = "of this console") {
        self.critical = max(1, critical)
        self.origin = origin
    }

    /// The approvals a proposal with the risk hints `hints` needs.
    public func required(for hints: [RiskHint]) -> Int {
        hints.highestSeverity == .critical ? critical : 1
    }

    /// The approvals applying `file` for a proposal with the hints
    /// `proposalHints` needs: the higher of the proposal's own and those of
    /// `file` assessed against the mirrored `current` file, so one operator
    /// cannot Modify a harmless proposal into a critical file alone.
    public func required(for proposalHints: [RiskHint], applying file: String, tool: Tool, current: String?) -> Int {
        max(required(for: proposalHints), required(for: RiskHints.assess(tool: tool, proposed: file, current: current)))
    }
}
