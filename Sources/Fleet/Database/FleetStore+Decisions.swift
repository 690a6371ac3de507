import Foundation
import PostgresNIO
import Queue

extension FleetStore {
    /// Claims a proposal's one decision across the fleet.
    ///
    /// In one transaction: the proposal row is read `FOR SHARE` (a mirror
    /// changing its bytes waits, and vice versa), a decision already there is
    /// returned as ``FleetDecideResult/alreadyDecided(_:)``, a claim bound to
    /// other bytes than the row's or on an archived proposal is refused
    /// without writing, and otherwise `INSERT … ON CONFLICT DO NOTHING
    /// RETURNING` decides: the primary key lets exactly one of two racing
    /// claims in, and the other reads the winner.
    /// - Throws: ``FleetStoreError/invalid(_:)`` for a claim no operator could
    ///   make (a status other than approved, modified, rejected; no digest; …).
    public func decide(_ claim: FleetDecisionRow) async throws(FleetStoreError) -> FleetDecideResult {
        try Self.validate(claim)
        let host = claim.host.rawValue
        let bottle = claim.bottle.rawValue
        let id = claim.id.rawValue
        let logger = self.logger
        return try await transaction("deciding \(claim.bottle)/\(claim.id) on \(claim.host)") { connection in
            var proposal: (digest: String, archived: Bool)?
            for try await (digest, archived) in try await connection.query(
                """
                SELECT proposal_sha256, archived FROM fleet_proposals
                WHERE host = \(host) AND bottle = \(bottle) AND id = \(id) FOR SHARE
                """, logger: logger
            ).decode((String, Bool).self) {
                proposal = (digest, archived)
            }
            guard let proposal else { return .unknownProposal }
            if let existing = try await Self.decision(host: host, bottle: bottle, id: id, on: connection, logger: logger) {
                return .alreadyDecided(existing)
            }
            if proposal.digest != claim.proposalSHA256 { return .proposalChanged(current: proposal.digest) }
            if proposal.archived { return .proposalArchived }
            let inserted = try await connection.query(
                """
                INSERT INTO fleet_decisions AS d (
                    host, bottle, id, status, notes, final_file, answer, decided_by, decided_at, proposal_sha256, delivery)
                VALUES (
                    \(host), \(bottle), \(id), \(claim.status.rawValue), \(claim.notes), \(claim.finalFile), \(claim.answer),
                    \(claim.decidedBy), now(), \(claim.proposalSHA256), 'awaiting-host')
                ON CONFLICT (host, bottle, id) DO NOTHING
                RETURNING \(unescaped: Self.decisionColumns)
                """, logger: logger)
            for try await row in inserted {
                var reader = FleetRowReader(row)
                if let won = try Self.readDecision(&reader) { return .won(won) }
            }
            guard let winner = try await Self.decision(host: host, bottle: bottle, id: id, on: connection, logger: logger)
            else {
                throw FleetStoreError.refused("the decision on \(bottle)/\(id) was neither written nor found")
            }
            return .alreadyDecided(winner)
        }
    }

    /// The claims waiting for `host`'s relay to apply them, oldest first.
    public func awaitingDecisions(host: FleetHostName) async throws(FleetStoreError) -> [FleetDecisionRow] {
        try await run("reading the claims awaiting \(host)") {
            var claims: [FleetDecisionRow] = []
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.decisionColumns) FROM fleet_decisions d
                WHERE d.host = \(host.rawValue) AND d.delivery = 'awaiting-host'
                ORDER BY d.decided_at, d.bottle, d.id
                """, logger: logger)
            for try await row in rows {
                var reader = FleetRowReader(row)
                if let claim = try Self.readDecision(&reader) { claims.append(claim) }
            }
            return claims
        }
    }

    /// The decision on one proposal, or `nil`.
    public func decision(host: FleetHostName, bottle: BottleSlug, id: ProposalID) async throws(FleetStoreError)
        -> FleetDecisionRow?
    {
        let logger = self.logger
        return try await run("reading the decision on \(bottle)/\(id)") {
            try await client.withConnection { connection in
                try await Self.decision(
                    host: host.rawValue, bottle: bottle.rawValue, id: id.rawValue, on: connection, logger: logger)
            }
        }
    }

    /// The owning relay's word on a claim.
    ///
    /// ``FleetDelivery/delivered(_:)`` moves an awaiting (or delivered) row to
    /// delivered with the apply outcome; ``FleetDelivery/superseded(by:)`` and
    /// ``FleetDelivery/refused(reason:)`` apply only to a claim still awaiting
    /// its host. Recording the same word twice changes nothing.
    /// - Returns: the row as it now stands; `nil` when there is no decision.
    @discardableResult
    public func recordDelivery(host: FleetHostName, bottle: BottleSlug, id: ProposalID, _ delivery: FleetDelivery)
        async throws(FleetStoreError) -> FleetDecisionRow?
    {
        let (hostText, bottleText, idText) = (host.rawValue, bottle.rawValue, id.rawValue)
        let logger = self.logger
        return try await transaction("recording the delivery of \(bottle)/\(id) on \(host)") { connection in
            let selected = try await connection.query(
                """
                SELECT \(unescaped: Self.decisionColumns) FROM fleet_decisions d
                WHERE d.host = \(hostText) AND d.bottle = \(bottleText) AND d.id = \(idText) FOR UPDATE
                """, logger: logger)
            var stored: FleetDecisionRow?
            for try await row in selected {
                var reader = FleetRowReader(row)
                stored = try Self.readDecision(&reader)
            }
            guard let stored else { return nil }
            var target = stored
            switch delivery {
            case .delivered(let outcome):
                guard stored.delivery == .awaitingHost || stored.delivery == .delivered else { return stored }
                target.delivery = .delivered
                if let outcome {
                    target.applyState = outcome.state
                    target.applySummary = outcome.summary
                }
            case .superseded(let decision):
                guard stored.delivery == .awaitingHost else { return stored }
                target = FleetDecisionRow(host: host, bottle: bottle, local: decision)
                target.delivery = .superseded
                target.supersededClaim = stored.claimText
            case .refused(let reason):
                guard stored.delivery == .awaitingHost else { return stored }
                target.delivery = .refused
                target.reason = reason.isEmpty ? "refused by the owning host" : reason
            }
            guard target != stored else { return stored }
            try await Self.overwrite(target, on: connection, logger: logger)
            return try await Self.decision(host: hostText, bottle: bottleText, id: idText, on: connection, logger: logger)
        }
    }

    static func decision(host: String, bottle: String, id: String, on connection: PostgresConnection, logger: Logger)
        async throws -> FleetDecisionRow?
    {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: decisionColumns) FROM fleet_decisions d
            WHERE d.host = \(host) AND d.bottle = \(bottle) AND d.id = \(id)
            """, logger: logger)
        var found: FleetDecisionRow?
        for try await row in rows {
            var reader = FleetRowReader(row)
            found = try readDecision(&reader)
        }
        return found
    }

    /// Refuses a claim no operator could make, before it reaches the database.
    static func validate(_ claim: FleetDecisionRow) throws(FleetStoreError) {
        guard [.approved, .modified, .rejected].contains(claim.status) else {
            throw .invalid("a claim is approved, modified or rejected, not \(claim.status.rawValue)")
        }
        guard let digest = claim.proposalSHA256, SHA256Hex.isWellFormed(digest) else {
            throw .invalid("a claim must be bound to the proposal's digest (64 lowercase hex digits)")
        }
        guard (claim.status == .modified) == (claim.finalFile != nil) else {
            throw .invalid("a modified claim carries the final file, and only a modified one")
        }
        let decider = claim.decidedBy.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !decider.isEmpty, claim.decidedBy.utf8.count <= 256 else {
            throw .invalid("a claim names who decided, in at most 256 bytes")
        }
        guard !Escaped.needsEscaping(claim.decidedBy) else {
            throw .invalid(
                "the decider's name \(FleetHostName.quoted(claim.decidedBy)) holds control, bidi or zero-width "
                    + "characters, which could disguise who decided; decide under a plain name")
        }
        guard claim.notes.utf8.count <= Decision.maximumNotesSize else {
            throw .invalid("the notes are \(claim.notes.utf8.count) bytes; the limit is \(Decision.maximumNotesSize)")
        }
        guard ![claim.notes, claim.decidedBy, claim.finalFile ?? ""].contains(where: { $0.utf8.contains(0) }) else {
            throw .invalid("a claim's notes, name and final file cannot hold a NUL character")
        }
        if let answer = claim.answer, !Decision.isAnswerName(answer) {
            throw .invalid("answer is not a preset answer's name (1 to 64 letters, digits, '-', '_' and '.')")
        }
    }
}
