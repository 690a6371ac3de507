import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Risk
import Testing

@Suite("Fleet store against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetStoreSmokeTests {
    /// The path every fleet feature takes: migrate, register, mirror a
    /// proposal, read it back on "another host", claim it, see it awaiting
    /// its host, record delivery.
    @Test("a mirrored proposal is listed, claimed once, and delivered")
    func roundTrip() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            try await store.registerHost(a, version: "test")
            let row = FleetFixtures.proposal(hints: [RiskHint(.critical, "wildcard-public-suffix", "*.com", line: 1)])
            let report = try await store.mirror(FleetSnapshot(host: a, bottles: [row.bottle], proposals: [row]))
            #expect(report.proposalsWritten == 1)

            let listed = try await store.proposals()
            #expect(listed == [row.withFirstSeen(listed.first?.hostFirstSeen)])

            let result = try await store.decide(FleetFixtures.claim(row, by: "alice"))
            guard case .won(let won) = result else { Issue.record("expected a win, got \(result)"); return }
            #expect(won.delivery == .awaitingHost && won.decidedBy == "alice")
            #expect(try await store.awaitingDecisions(host: a).map(\.id) == [row.id])
            #expect(try await store.proposals().isEmpty, "a decided proposal is no longer pending")

            let delivered = try await store.recordDelivery(
                host: a, bottle: row.bottle, id: row.id, .delivered(ApplyOutcome(state: .applied, summary: "reloaded")))
            #expect(delivered?.delivery == .delivered && delivered?.applyState == .applied)
            #expect(try await store.awaitingDecisions(host: a).isEmpty)
        }
    }
}

extension FleetProposalRow {
    /// The row with the database's first-seen time (set by the server when the relay gives none).
    func withFirstSeen(_ date: Date?) -> FleetProposalRow {
        var copy = self
        copy.hostFirstSeen = date
        return copy
    }
}
