import Foundation
import Logging
import PostgresNIO
import Queue

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

    /// One operator's approval of a proposal as it hashed to `proposalSHA256`.
    public struct Approval: Sendable, Equatable {
        public let operatorName: String
        public let proposalSHA256: String
        public let notes: String
        public let approvedAt: Date
    }

    /// Records `operatorName`'s approval of the bytes `proposalSHA256`
    /// (replacing an earlier one of theirs, which may have been of other
    /// bytes) and returns every approval of those same bytes, oldest first.
    public func approve(
        host: String, bottle: String, id: String, operatorName: String, proposalSHA256: String, notes: String
    ) async throws -> [Approval] {
        _ = try await client.query(
            """
            INSERT INTO fleet_approvals (host, bottle, id, operator, proposal_sha256, notes)
            VALUES (\(host), \(bottle), \(id), \(operatorName), \(proposalSHA256), \(notes))
            ON CONFLICT (host, bottle, id, operator) DO UPDATE
            SET proposal_sha256 = EXCLUDED.proposal_sha256, notes = EXCLUDED.notes, approved_at = now()
            """, logger: logger)
        return try await approvals(host: host, bottle: bottle, id: id).filter { $0.proposalSHA256 == proposalSHA256 }
    }

    /// Every approval recorded for the proposal, oldest first.
    public func approvals(host: String, bottle: String, id: String) async throws -> [Approval] {
        let rows = try await client.query(
            """
            SELECT operator, proposal_sha256, notes, approved_at FROM fleet_approvals
            WHERE host = \(host) AND bottle = \(bottle) AND id = \(id) ORDER BY approved_at, operator
            """, logger: logger)
        var approvals: [Approval] = []
        for try await (name, digest, notes, at) in rows.decode((String, String, String, Date).self) {
            approvals.append(Approval(operatorName: name, proposalSHA256: digest, notes: notes, approvedAt: at))
        }
        return approvals
    }
}

/// How many distinct operators must approve a proposal: `[fleet] approvals`
/// for a proposal with a `critical` risk hint, one for any other.
///
/// Why only critical ones: a second pair of eyes costs a second person's
/// time; the hints the host computes already single out the changes that
/// open the most (a wildcard, a secret-shaped host, a privileged Dockerfile).
public struct ApprovalThreshold: Sendable, Equatable {
    /// The approvals a critical proposal needs (1: no threshold).
    public let critical: Int

    public init(critical: Int = 1) {
        self.critical = max(1, critical)
    }

    /// The approvals a proposal with the risk hints `hints` needs.
    public func required(for hints: [RiskHint]) -> Int {
        hints.highestSeverity == .critical ? critical : 1
    }
}
