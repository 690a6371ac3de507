import Foundation
import PostgresNIO
import Queue

/// What one ``FleetStore/mirror(_:)`` changed: all zero when the database
/// already held the snapshot (no row written, no NOTIFY sent).
public struct FleetMirrorReport: Sendable, Equatable {
    /// Proposal rows inserted or changed.
    public var proposalsWritten = 0
    /// Proposal rows marked archived because the snapshot no longer lists them.
    public var proposalsArchived = 0
    /// Decision rows inserted or changed from the host's own decisions.
    public var decisionsWritten = 0

    public init() {}

    /// Whether anything changed.
    public var isEmpty: Bool { proposalsWritten == 0 && proposalsArchived == 0 && decisionsWritten == 0 }
}

extension FleetStore {
    /// Mirrors one host's queue (or one bottle of it) into the database, in one transaction.
    ///
    /// Idempotent: a row is written only when a column differs (`ON CONFLICT
    /// … DO UPDATE … WHERE (…) IS DISTINCT FROM (…)`), so replaying a snapshot
    /// writes nothing and fires no NOTIFY. Proposals of the snapshot's scope
    /// that the database lists as live but the snapshot does not are marked
    /// archived. The host's own decisions follow the mirror rules: a proposal
    /// without a decision row gets the local one as delivered; an awaiting
    /// claim equal to the local decision (status, decider, digest: the relay's
    /// own apply, say after a kill -9 before it recorded delivery) becomes
    /// delivered; a different local decision supersedes the claim.
    @discardableResult
    public func mirror(_ snapshot: FleetSnapshot) async throws(FleetStoreError) -> FleetMirrorReport {
        let host = snapshot.host.rawValue
        var bottles = Set(snapshot.bottles.map(\.rawValue))
        for row in snapshot.proposals {
            guard row.host == snapshot.host else {
                throw .invalid("a snapshot of \(snapshot.host) holds a proposal of \(row.host)")
            }
            if case .bottle(let only) = snapshot.scope, row.bottle != only {
                throw .invalid("a snapshot of bottle \(only) holds a proposal of bottle \(row.bottle)")
            }
            bottles.insert(row.bottle.rawValue)
        }
        let encoded = try snapshot.proposals.map { row throws(FleetStoreError) in
            do { return (row, try RiskHintsJSON.encode(row.riskHints)) } catch {
                throw .invalid("cannot encode the risk hints of \(row.bottle)/\(row.id): \(error)")
            }
        }
        let listed = snapshot.proposals.map { "\($0.bottle.rawValue)/\($0.id.rawValue)" }
        let scopeBottle: String? =
            switch snapshot.scope {
            case .host: nil
            case .bottle(let bottle): bottle.rawValue
            }
        let logger = self.logger
        return try await transaction("mirroring \(snapshot.host)") { connection in
            var report = FleetMirrorReport()
            try await connection.query(
                "INSERT INTO fleet_hosts (host) VALUES (\(host)) ON CONFLICT (host) DO NOTHING", logger: logger)
            try await connection.query(
                """
                INSERT INTO fleet_bottles (host, bottle) SELECT \(host), unnest(\(bottles.sorted())::text[])
                ON CONFLICT (host, bottle) DO NOTHING
                """, logger: logger)
            for chunk in FleetMirrorBatch.chunks(of: encoded) {
                report.proposalsWritten += try await Self.upsert(chunk, host: host, on: connection, logger: logger)
            }
            let archived = try await connection.query(
                """
                UPDATE fleet_proposals SET archived = true, waiting = false, updated_at = now()
                WHERE host = \(host) AND NOT archived AND (\(scopeBottle)::text IS NULL OR bottle = \(scopeBottle))
                  AND NOT (bottle || '/' || id = ANY(\(listed)::text[]))
                RETURNING true
                """, logger: logger)
            for try await _ in archived { report.proposalsArchived += 1 }
            report.decisionsWritten = try await Self.mirrorDecisions(
                of: snapshot, on: connection, logger: logger)
            return report
        }
    }

    /// Upserts a batch of proposal rows in one statement (the batch's columns as arrays,
    /// `unnest`ed); a row is written only when a column differs. Returns how many were.
    static func upsert(_ batch: FleetMirrorBatch, host: String, on connection: PostgresConnection, logger: Logger)
        async throws -> Int
    {
        let written = try await connection.query(
            """
            INSERT INTO fleet_proposals AS p (
                host, bottle, id, tool, proposal, proposal_sha256, proposed_file, justification,
                created_at, expires_at, host_first_seen, risk_hints, current_file, current_sha256,
                problem, waiting, archived, required_approvals, approvals_rule, critical_approvals)
            SELECT \(host), r.bottle, r.id, r.tool, r.proposal, r.proposal_sha256, r.proposed_file, r.justification,
                r.created_at, CASE WHEN r.has_expiry THEN r.expires_at END,
                CASE WHEN r.has_first_seen THEN r.host_first_seen ELSE now() END, r.risk_hints::jsonb,
                CASE WHEN r.has_current_file THEN r.current_file END,
                CASE WHEN r.has_current_digest THEN r.current_sha256 END,
                CASE WHEN r.has_problem THEN r.problem END, r.waiting, r.archived, r.required_approvals,
                CASE WHEN r.has_approvals_rule THEN r.approvals_rule END, r.critical_approvals
            FROM unnest(
                \(batch.bottles)::text[], \(batch.ids)::text[], \(batch.tools)::text[], \(batch.proposals)::bytea[],
                \(batch.digests)::text[], \(batch.proposedFiles)::text[], \(batch.justifications)::text[],
                \(batch.createdAt)::timestamptz[], \(batch.hasExpiry)::boolean[], \(batch.expiresAt)::timestamptz[],
                \(batch.hasFirstSeen)::boolean[], \(batch.firstSeen)::timestamptz[], \(batch.riskHints)::text[],
                \(batch.hasCurrentFile)::boolean[], \(batch.currentFiles)::text[],
                \(batch.hasCurrentDigest)::boolean[], \(batch.currentDigests)::text[],
                \(batch.hasProblem)::boolean[], \(batch.problems)::text[], \(batch.waiting)::boolean[],
                \(batch.archived)::boolean[], \(batch.requiredApprovals)::integer[], \(batch.hasApprovalsRule)::boolean[],
                \(batch.approvalsRules)::text[], \(batch.criticalApprovals)::integer[])
                AS r(bottle, id, tool, proposal, proposal_sha256, proposed_file, justification, created_at, has_expiry,
                     expires_at, has_first_seen, host_first_seen, risk_hints, has_current_file, current_file,
                     has_current_digest, current_sha256, has_problem, problem, waiting, archived, required_approvals,
                     has_approvals_rule, approvals_rule, critical_approvals)
            ON CONFLICT (host, bottle, id) DO UPDATE SET
                tool = EXCLUDED.tool, proposal = EXCLUDED.proposal, proposal_sha256 = EXCLUDED.proposal_sha256,
                proposed_file = EXCLUDED.proposed_file, justification = EXCLUDED.justification,
                created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
                risk_hints = EXCLUDED.risk_hints, current_file = EXCLUDED.current_file,
                current_sha256 = EXCLUDED.current_sha256, problem = EXCLUDED.problem,
                waiting = EXCLUDED.waiting, archived = EXCLUDED.archived,
                required_approvals = EXCLUDED.required_approvals, approvals_rule = EXCLUDED.approvals_rule,
                critical_approvals = EXCLUDED.critical_approvals, updated_at = now()
            WHERE (p.tool, p.proposal_sha256, p.proposed_file, p.justification, p.created_at, p.expires_at,
                   p.risk_hints, p.current_file, p.current_sha256, p.problem, p.waiting, p.archived,
                   p.required_approvals, p.approvals_rule, p.critical_approvals)
                IS DISTINCT FROM
                  (EXCLUDED.tool, EXCLUDED.proposal_sha256, EXCLUDED.proposed_file, EXCLUDED.justification,
                   EXCLUDED.created_at, EXCLUDED.expires_at, EXCLUDED.risk_hints, EXCLUDED.current_file,
                   EXCLUDED.current_sha256, EXCLUDED.problem, EXCLUDED.waiting, EXCLUDED.archived,
                   EXCLUDED.required_approvals, EXCLUDED.approvals_rule, EXCLUDED.critical_approvals)
            RETURNING true
            """, logger: logger)
        var count = 0
        for try await _ in written { count += 1 }
        return count
    }

    /// Applies the mirror rules to the host's own decisions; returns how many rows it wrote.
    static func mirrorDecisions(of snapshot: FleetSnapshot, on connection: PostgresConnection, logger: Logger)
        async throws -> Int
    {
        let local = snapshot.proposals.compactMap { row in row.decision.map { (row, $0) } }
        guard !local.isEmpty else { return 0 }
        let host = snapshot.host.rawValue
        let keys = local.map { "\($0.0.bottle.rawValue)/\($0.0.id.rawValue)" }
        // Lock the proposals first: a claim (decide) takes FOR SHARE on its
        // proposal, so no claim can slip in between this read and the writes.
        try await connection.query(
            """
            SELECT 1 FROM fleet_proposals
            WHERE host = \(host) AND bottle || '/' || id = ANY(\(keys)::text[])
            FOR NO KEY UPDATE
            """, logger: logger)
        var existing: [String: FleetDecisionRow] = [:]
        let rows = try await connection.query(
            """
            SELECT \(unescaped: decisionColumns) FROM fleet_decisions d
            WHERE d.host = \(host) AND d.bottle || '/' || d.id = ANY(\(keys)::text[])
            """, logger: logger)
        for try await row in rows {
            var reader = FleetRowReader(row)
            if let decision = try readDecision(&reader) {
                existing["\(decision.bottle.rawValue)/\(decision.id.rawValue)"] = decision
            }
        }
        var written = 0
        for (_, decision) in local {
            let key = "\(decision.bottle.rawValue)/\(decision.id.rawValue)"
            guard let stored = existing[key] else {
                try await insert(decision, on: connection, logger: logger)
                written += 1
                continue
            }
            let target = FleetMirrorRules.merge(local: decision, stored: stored)
            guard target != stored else { continue }
            try await overwrite(target, on: connection, logger: logger)
            written += 1
        }
        return written
    }

    static func insert(_ row: FleetDecisionRow, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO fleet_decisions (
                host, bottle, id, status, notes, final_file, answer, decided_by, decided_at, proposal_sha256,
                delivery, superseded_claim, reason, apply_state, apply_summary)
            VALUES (
                \(row.host.rawValue), \(row.bottle.rawValue), \(row.id.rawValue), \(row.status.rawValue),
                \(row.notes.postgresText), \(row.finalFile.postgresText), \(row.answer), \(row.decidedBy.postgresText),
                \(row.decidedAt), \(row.proposalSHA256), \(row.delivery.rawValue), \(row.supersededClaim.postgresText),
                \(row.reason.postgresText), \(row.applyState?.rawValue), \(row.applySummary.postgresText))
            """, logger: logger)
    }

    static func overwrite(_ row: FleetDecisionRow, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE fleet_decisions SET
                status = \(row.status.rawValue), notes = \(row.notes.postgresText),
                final_file = \(row.finalFile.postgresText), answer = \(row.answer),
                decided_by = \(row.decidedBy.postgresText), decided_at = \(row.decidedAt),
                proposal_sha256 = \(row.proposalSHA256), delivery = \(row.delivery.rawValue),
                superseded_claim = \(row.supersededClaim.postgresText), reason = \(row.reason.postgresText),
                apply_state = \(row.applyState?.rawValue), apply_summary = \(row.applySummary.postgresText),
                updated_at = now()
            WHERE host = \(row.host.rawValue) AND bottle = \(row.bottle.rawValue) AND id = \(row.id.rawValue)
            """, logger: logger)
    }
}
