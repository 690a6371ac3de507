import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

@Suite("Fleet decisions against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetDecisionTests {
    /// A migrated database with one pending proposal of host a mirrored.
    func withProposal(_ body: (FleetTestDatabase, FleetStore, FleetProposalRow) async throws -> Void) async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let row = FleetFixtures.proposal()
            try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row]))
            try await body(database, store, row)
        }
    }

    @Test("two operators on two connections claim at once: exactly one wins, the other learns who")
    func oneDecisionFromTwoClients() async throws {
        try await withProposal { database, _, row in
            for round in 0..<5 {
                let proposal = round == 0 ? row : FleetFixtures.proposal()
                if round > 0 {
                    _ = try await database.withStore(migrate: false) { store in
                        try await store.mirror(FleetSnapshot(host: proposal.host, bottle: proposal.bottle, proposals: [proposal]))
                    }
                }
                let results = try await withThrowingTaskGroup(of: FleetDecideResult.self) { group in
                    for name in ["alice", "bob"] {
                        group.addTask {
                            try await database.withStore(migrate: false) { store in
                                try await store.decide(
                                    FleetFixtures.claim(proposal, by: name, status: name == "alice" ? .approved : .rejected))
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = results.compactMap { if case .won(let row) = $0 { row } else { nil } }
                let losers = results.compactMap { if case .alreadyDecided(let row) = $0 { row } else { nil } }
                #expect(winners.count == 1 && losers.count == 1, "\(results)")
                #expect(losers.first?.decidedBy == winners.first?.decidedBy, "the loser is told the winner's name")
                #expect(losers.first?.status == winners.first?.status)
                #expect(
                    try database.psql("SELECT count(*) FROM fleet_decisions WHERE id = '\(proposal.id.rawValue)'") == "1")
            }
        }
    }

    @Test("a claim bound to other bytes than the row's is refused, nothing written")
    func staleDigest() async throws {
        try await withProposal { database, store, row in
            let stale = String(repeating: "0", count: 64)
            #expect(try await store.decide(FleetFixtures.claim(row, by: "alice", digest: stale)) == .proposalChanged(current: row.proposalSHA256))
            #expect(try database.psql("SELECT count(*) FROM fleet_decisions") == "0")
            #expect(try await store.decision(host: row.host, bottle: row.bottle, id: row.id) == nil)
            // The proposal's bytes change (a rewritten file mirrored again): a claim on the old bytes is refused.
            var changed = row
            changed.proposal = Data("{\"rewritten\":true}".utf8)
            changed.proposalSHA256 = SHA256Hex.of(changed.proposal)
            try await store.mirror(FleetSnapshot(host: row.host, bottle: row.bottle, proposals: [changed]))
            #expect(try await store.decide(FleetFixtures.claim(row, by: "alice")) == .proposalChanged(current: changed.proposalSHA256))
            guard case .won = try await store.decide(FleetFixtures.claim(changed, by: "alice")) else {
                Issue.record("a claim on the current bytes should win")
                return
            }
        }
    }

    @Test("a claim on an archived or unknown proposal is refused; on a decided one it reports the decision")
    func archivedAndUnknown() async throws {
        try await withProposal { database, store, row in
            try await store.mirror(FleetSnapshot(host: row.host, bottle: row.bottle, proposals: []))
            #expect(try database.psql("SELECT archived FROM fleet_proposals") == "t")
            #expect(try await store.decide(FleetFixtures.claim(row, by: "alice")) == .proposalArchived)
            #expect(try await store.decide(FleetFixtures.claim(FleetFixtures.proposal(), by: "alice")) == .unknownProposal)
            let decided = FleetFixtures.proposal(decision: Decision(id: .generate(), status: .rejected, notes: "no", decidedBy: "carol"))
            var local = decided
            local.decision?.id = decided.id
            try await store.mirror(FleetSnapshot(host: local.host, bottle: local.bottle, proposals: [local]))
            guard case .alreadyDecided(let existing) = try await store.decide(FleetFixtures.claim(local, by: "alice")) else {
                Issue.record("a decided proposal reports its decision")
                return
            }
            #expect(existing.decidedBy == "carol" && existing.delivery == .delivered)
        }
    }

    @Test("claims no operator could make are refused before the database", arguments: [
        (DecisionStatus.withdrawn, "alice", "a claim is approved, modified or rejected, not withdrawn"),
        (.modified, "alice", "a modified claim carries the final file"),
        (.approved, "  ", "a claim names who decided"),
    ])
    func invalidClaims(status: DecisionStatus, decider: String, message: String) async throws {
        try await withProposal { _, store, row in
            let claim = FleetFixtures.claim(row, by: decider, status: status)
            await #expect(throws: FleetStoreError.invalid(message.hasPrefix("a claim names") ? "a claim names who decided, in at most 256 bytes" : message + (status == .modified ? ", and only a modified one" : ""))) {
                try await store.decide(claim)
            }
        }
    }

    @Test("a claim's notes and name travel as values: quotes and SQL in them are stored as written")
    func hostileText() async throws {
        try await withProposal { database, store, row in
            var claim = FleetFixtures.claim(row, by: "o'brien\"; DROP TABLE fleet_decisions; --", status: .rejected)
            claim.notes = "'); DELETE FROM fleet_proposals; -- \\ $$ \u{1B}[2J"
            guard case .won(let won) = try await store.decide(claim) else {
                Issue.record("expected a win")
                return
            }
            #expect(won.decidedBy == claim.decidedBy && won.notes == claim.notes)
            #expect(try database.psql("SELECT count(*) FROM fleet_proposals") == "1")
        }
    }

    @Test("the owning relay's word: delivered with its outcome, refused with a reason, superseded keeping the claim")
    func deliveries() async throws {
        try await withProposal { database, store, row in
            let claims = (0..<3).map { _ in FleetFixtures.proposal() }
            try await store.mirror(FleetSnapshot(host: row.host, bottle: row.bottle, proposals: [row] + claims))
            for claim in [row] + claims { _ = try await store.decide(FleetFixtures.claim(claim, by: "alice")) }
            #expect(try await store.awaitingDecisions(host: row.host).count == 4)

            let outcome = ApplyOutcome(state: .applied, summary: "reloaded pipelock")
            let delivered = try await store.recordDelivery(host: row.host, bottle: row.bottle, id: row.id, .delivered(outcome))
            #expect(delivered?.delivery == .delivered && delivered?.applySummary == "reloaded pipelock")
            #expect(try await store.recordDelivery(host: row.host, bottle: row.bottle, id: row.id, .delivered(outcome)) == delivered)

            let refused = try await store.recordDelivery(
                host: row.host, bottle: row.bottle, id: claims[0].id, .refused(reason: "the proposal changed since alice reviewed it"))
            #expect(refused?.delivery == .refused && refused?.reason == "the proposal changed since alice reviewed it")

            let local = Decision(id: claims[1].id, status: .rejected, notes: "not now", decidedBy: "bob", proposalSHA256: claims[1].proposalSHA256)
            let superseded = try await store.recordDelivery(host: row.host, bottle: row.bottle, id: claims[1].id, .superseded(by: local))
            #expect(superseded?.delivery == .superseded && superseded?.decidedBy == "bob" && superseded?.status == .rejected)
            #expect(superseded?.supersededClaim?.hasPrefix("approved by alice at ") == true, "\(String(describing: superseded))")

            // A word on a row already settled changes nothing.
            let again = try await store.recordDelivery(host: row.host, bottle: row.bottle, id: claims[0].id, .delivered(nil))
            #expect(again == refused)
            #expect(try await store.awaitingDecisions(host: row.host).map(\.id) == [claims[2].id])
            #expect(try await store.recordDelivery(host: row.host, bottle: row.bottle, id: .generate(), .delivered(nil)) == nil)
            #expect(try database.psql("SELECT count(*) FROM fleet_decisions WHERE delivery = 'refused' AND reason IS NOT NULL") == "1")
        }
    }

    @Test("a claim wakes its host's relay: NOTIFY fleet_decisions with the host's name, and fleet_changes")
    func claimNotifies() async throws {
        try await withProposal { _, store, row in
            let decisions = try await store.changes(channel: FleetSchema.decisionChannel)
            let changes = try await store.changes(channel: FleetSchema.changeChannel)
            _ = try await store.decide(FleetFixtures.claim(row, by: "alice"))
            #expect(try await payloads(of: decisions, until: { _ in true }) == ["a"])
            #expect(try await payloads(of: changes, until: { _ in true }) == ["a/\(row.bottle)/\(row.id)"])
            await #expect(throws: FleetStoreError.self) { try await store.changes(channel: "pg_catalog") }
        }
    }
}

/// The payloads of `changes` up to and including the first for which `isLast` holds (deadline 10 s).
func payloads(of changes: FleetChanges, until isLast: @escaping @Sendable (String) -> Bool) async throws -> [String] {
    try await withDeadline {
        var seen: [String] = []
        for try await payload in changes {
            seen.append(payload)
            if isLast(payload) { return seen }
        }
        return seen
    }
}

/// Runs `body`, failing after `seconds` (every wait in a test has a deadline).
func withDeadline<Value: Sendable>(seconds: Double = 10, _ body: @escaping @Sendable () async throws -> Value) async throws
    -> Value
{
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(seconds: seconds)
        }
        return value
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "nothing came within \(seconds) s" }
}
