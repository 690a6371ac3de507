import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Risk
import Testing

@Suite("Fleet mirror against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetMirrorTests {
    @Test("replaying an unchanged snapshot writes nothing and fires no NOTIFY; a change fires one")
    func idempotence() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            let rows = (0..<3).map { _ in FleetFixtures.proposal(hints: [RiskHint(.warning, "new-host", "adds x", line: 1)]) }
            let snapshot = FleetSnapshot(host: a, bottles: [rows[0].bottle], proposals: rows)
            #expect(try await store.mirror(snapshot).proposalsWritten == 3)
            let changes = try await store.changes(channel: FleetSchema.changeChannel)
            let replay = try await store.mirror(snapshot)
            #expect(replay.isEmpty, "\(replay)")
            var waiting = rows[1]
            waiting.waiting = true
            let changed = try await store.mirror(FleetSnapshot(host: a, bottles: [rows[0].bottle], proposals: [rows[0], waiting, rows[2]]))
            #expect(changed.proposalsWritten == 1)
            try database.psql("NOTIFY fleet_changes, 'sentinel'")
            // Notifications arrive in commit order: anything the replay had fired would come first.
            let seen = try await payloads(of: changes, until: { $0 == "sentinel" })
            #expect(seen == ["a/\(waiting.bottle)/\(waiting.id)", "sentinel"])
            #expect(try database.psql("SELECT count(*) FROM fleet_proposals WHERE waiting") == "1")
        }
    }

    @Test("every column comes back as written, NULLs included, across batches of many rows")
    func roundTrip() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            var rows = (0..<1_203).map { _ in FleetFixtures.proposal() }
            rows[0].expiresAt = Timestamp.normalized(Date(timeIntervalSinceNow: 3600))
            rows[0].hostFirstSeen = Timestamp.normalized(Date(timeIntervalSinceNow: -60))
            rows[0].problem = "proposed_file_sha256 does not match"
            rows[1].currentFile = nil
            rows[1].currentSHA256 = nil
            rows[2].currentFile = nil  // a digest known without the file
            rows[3].waiting = true
            let report = try await store.mirror(FleetSnapshot(host: a, bottles: [rows[0].bottle], proposals: rows))
            #expect(report.proposalsWritten == rows.count)
            #expect(try await store.mirror(FleetSnapshot(host: a, bottles: [rows[0].bottle], proposals: rows)).isEmpty)
            let stored = try await store.proposals(host: a)
            #expect(stored.count == rows.count)
            let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
            for (index, row) in rows.enumerated() {
                var expected = row
                if index != 0 { expected.hostFirstSeen = byID[row.id]?.hostFirstSeen }
                #expect(byID[row.id] == expected, "row \(index)")
            }
        }
    }

    @Test("bytes stored with their digest: the server refuses a row whose digest is not sha256 of its bytes")
    func digestCheck() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            var row = FleetFixtures.proposal()
            #expect(
                try database.psql("SELECT 1") == "1")
            row.proposalSHA256 = SHA256Hex.of("something else")
            let error = await #expect(throws: FleetStoreError.self) {
                try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row]))
            }
            #expect(error?.message.contains("fleet_proposals_check") == true || error?.message.contains("check constraint") == true, "\(String(describing: error))")
            #expect(try database.psql("SELECT count(*) FROM fleet_proposals") == "0", "the whole snapshot was rolled back")
            let good = FleetFixtures.proposal()
            try await store.mirror(FleetSnapshot(host: good.host, bottles: [good.bottle], proposals: [good]))
            #expect(try database.psql("SELECT encode(sha256(proposal), 'hex') = proposal_sha256 FROM fleet_proposals") == "t")
        }
    }

    @Test("a row built from a queue entry refuses bytes that do not hash to the entry's digest")
    func entryDigest() throws {
        let proposal = Proposal(bottle: FleetFixtures.bottle("web-1"), tool: .pipelockBlock, proposedFile: "a\n", justification: "j", currentFileSHA256: nil)
        let bytes = Data("{\"the\":\"file\"}".utf8)
        let entry = QueueEntry(proposal: proposal, decision: nil, waiting: true, archived: false, proposalSHA256: SHA256Hex.of(bytes))
        let row = try FleetProposalRow(host: FleetFixtures.host("a"), entry: entry, proposalFile: bytes, riskHints: [], currentFile: "b\n")
        #expect(row.proposalSHA256 == SHA256Hex.of(bytes) && row.waiting && row.currentSHA256 == SHA256Hex.of("b\n"))
        #expect(throws: FleetStoreError.self) {
            try FleetProposalRow(host: FleetFixtures.host("a"), entry: entry, proposalFile: Data("other".utf8), riskHints: [], currentFile: nil)
        }
    }

    @Test("risk hints are stored as JSON any reader can query, and read back whole")
    func riskHintsJSON() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let hints = [
                RiskHint(.critical, "wildcard-public-suffix", "allows *.com \"quoted\"", line: 3),
                RiskHint(.notice, "no-user", "runs as root", line: nil),
            ]
            let row = FleetFixtures.proposal(hints: hints)
            try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row]))
            #expect(try database.psql("SELECT jsonb_typeof(risk_hints) FROM fleet_proposals") == "array")
            #expect(try database.psql("SELECT risk_hints->0->>'rule' || ' ' || (risk_hints->0->>'line') FROM fleet_proposals") == "wildcard-public-suffix 3")
            #expect(try database.psql("SELECT risk_hints->0->>'severity' FROM fleet_proposals") == "critical")
            #expect(try await store.proposals(id: row.id).first?.riskHints == hints)
        }
    }

    @Test("proposals gone from the queue are archived; listing filters by host, bottle and pending")
    func archiveAndFilters() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a1 = FleetFixtures.proposal(host: "a", bottle: "web-1")
            let a2 = FleetFixtures.proposal(host: "a", bottle: "web-2")
            let b1 = FleetFixtures.proposal(host: "b", bottle: "web-1")
            try await store.mirror(FleetSnapshot(host: a1.host, bottles: [a1.bottle, a2.bottle], proposals: [a1, a2]))
            try await store.mirror(FleetSnapshot(host: b1.host, bottles: [b1.bottle], proposals: [b1]))
            #expect(try await store.proposals().count == 3)
            #expect(try await store.proposals(host: a1.host).map(\.id).sorted() == [a1.id, a2.id].sorted())
            #expect(try await store.proposals(bottle: a1.bottle).map(\.host).sorted() == [a1.host, b1.host])
            #expect(try await store.proposals(host: b1.host, bottle: a2.bottle).isEmpty)

            // One bottle's snapshot archives only that bottle's missing proposals.
            let report = try await store.mirror(FleetSnapshot(host: a1.host, bottle: a2.bottle, proposals: []))
            #expect(report.proposalsArchived == 1)
            #expect(try await store.proposals(host: a1.host).map(\.id) == [a1.id])
            #expect(try await store.proposals(host: a1.host, includeDecided: true).count == 2)
            #expect(try await store.mirror(FleetSnapshot(host: a1.host, bottle: a2.bottle, proposals: [])).isEmpty)
            #expect(try await store.proposals(host: b1.host).count == 1, "another host's rows are untouched")
        }
    }

    @Test("local decisions: inserted as delivered; a matching claim becomes delivered; a different one is superseded")
    func localDecisions() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            let fresh = FleetFixtures.proposal()
            let applied = FleetFixtures.proposal()
            let raced = FleetFixtures.proposal()
            try await store.mirror(FleetSnapshot(host: a, bottles: [fresh.bottle], proposals: [fresh, applied, raced]))
            _ = try await store.decide(FleetFixtures.claim(applied, by: "alice"))
            _ = try await store.decide(FleetFixtures.claim(raced, by: "alice"))

            // The host's queue now has: a decision made there; the claim applied (relay killed
            // before recording delivery); an operator at the host's terminal who was faster.
            func local(_ row: FleetProposalRow, _ decision: Decision) -> FleetProposalRow {
                var copy = row
                copy.decision = FleetDecisionRow(host: a, bottle: row.bottle, local: decision)
                return copy
            }
            let outcome = ApplyOutcome(state: .applied, summary: "reloaded")
            var appliedDecision = Decision(
                id: applied.id, status: .approved, decidedBy: "alice", apply: outcome, proposalSHA256: applied.proposalSHA256)
            appliedDecision.apply = outcome
            let snapshot = FleetSnapshot(
                host: a, bottles: [fresh.bottle],
                proposals: [
                    local(fresh, Decision(id: fresh.id, status: .approved, decidedBy: "carol", proposalSHA256: fresh.proposalSHA256)),
                    local(applied, appliedDecision),
                    local(raced, Decision(id: raced.id, status: .rejected, notes: "no", decidedBy: "dave", proposalSHA256: raced.proposalSHA256)),
                ])
            let report = try await store.mirror(snapshot)
            #expect(report.decisionsWritten == 3)
            let freshRow = try await store.decision(host: a, bottle: fresh.bottle, id: fresh.id)
            #expect(freshRow?.delivery == .delivered && freshRow?.decidedBy == "carol")
            let appliedRow = try await store.decision(host: a, bottle: applied.bottle, id: applied.id)
            #expect(appliedRow?.delivery == .delivered && appliedRow?.decidedBy == "alice" && appliedRow?.applyState == .applied)
            let racedRow = try await store.decision(host: a, bottle: raced.bottle, id: raced.id)
            #expect(racedRow?.delivery == .superseded && racedRow?.decidedBy == "dave" && racedRow?.status == .rejected)
            #expect(racedRow?.supersededClaim?.hasPrefix("approved by alice") == true)
            #expect(try await store.awaitingDecisions(host: a).isEmpty)
            #expect(try await store.mirror(snapshot).isEmpty, "replaying the decisions changes nothing")
        }
    }

    /// A compromised sidecar can write an unsealed withdrawal with any fields; the host believes
    /// it as the sidecar's claim. Mirrored as it was, a `final_file` on it broke the table's
    /// CHECK and rolled back the host's whole mirror, every time, for every bottle.
    @Test("a sidecar's withdrawal carrying a final file, an apply and a name mirrors as the sidecar's, with the host's other rows")
    func sidecarWithdrawal() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            let planted = FleetFixtures.proposal()
            let other = FleetFixtures.proposal()
            var withdrawal = Decision(
                id: planted.id, status: .withdrawn, notes: "n", finalFile: "{\"routes\": []}\n", decidedBy: "alice",
                apply: ApplyOutcome(state: .applied, summary: "applied by the operator"),
                proposalSHA256: planted.proposalSHA256, answer: "yes")
            withdrawal.origin = .sidecar
            var withdrawn = planted
            withdrawn.decision = FleetDecisionRow(host: a, bottle: planted.bottle, local: withdrawal)
            let report = try await store.mirror(
                FleetSnapshot(host: a, bottles: [planted.bottle], proposals: [withdrawn, other]))
            #expect(report.decisionsWritten == 1)
            let row = try #require(try await store.decision(host: a, bottle: planted.bottle, id: planted.id))
            #expect(row.status == .withdrawn && row.finalFile == nil && row.answer == nil)
            #expect(row.decidedBy == "sidecar" && row.applyState == nil && row.applySummary == nil)
            #expect(try await store.proposals(host: a).map(\.id) == [other.id])
        }
    }

    @Test("agent text with NUL and control characters is mirrored, not a reason to stop mirroring the host")
    func hostileAgentText() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            var row = FleetFixtures.proposal(file: "a.example\u{0}\n\u{1B}[2Jhidden\n")
            row.justification = "'); DROP TABLE fleet_hosts; --\u{0}"
            let other = FleetFixtures.proposal()
            try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row, other]))
            let stored = try #require(try await store.proposals(id: row.id).first)
            #expect(stored.proposal == row.proposal, "the bytes, which decisions are bound to, are kept exactly")
            #expect(stored.proposedFile == "a.example\u{FFFD}\n\u{1B}[2Jhidden\n")
            #expect(stored.justification == "'); DROP TABLE fleet_hosts; --\u{FFFD}")
            #expect(try await store.proposals().count == 2)
        }
    }
}
