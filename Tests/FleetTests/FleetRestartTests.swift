import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

@Suite("Fleet store across a database restart", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetRestartTests {
    @Test("a killed database ends the LISTEN sequence with an error; after restart the same store works and nothing committed is lost")
    func killAndRestart() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let row = FleetFixtures.proposal()
            try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row]))
            guard case .won = try await store.decide(FleetFixtures.claim(row, by: "alice")) else {
                Issue.record("expected a win")
                return
            }
            let changes = try await store.changes(channel: FleetSchema.decisionChannel)
            try await database.server.kill()
            // At once: the connection's socket closes with the server (the keep-alive would take up to 15 s).
            let ended = await #expect(throws: (any Error).self) {
                try await withDeadline(seconds: 5) {
                    for try await _ in changes {}
                    return true
                }
            }
            #expect(ended is FleetStoreError, "\(String(describing: ended))")
            try await database.server.restart()
            let awaiting = try await withDeadline(seconds: 30) {
                while true {
                    if let claims = try? await store.awaitingDecisions(host: row.host) { return claims }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            #expect(awaiting.map(\.decidedBy) == ["alice"])
            guard case .alreadyDecided(let winner) = try await store.decide(FleetFixtures.claim(row, by: "bob")) else {
                Issue.record("the claim made before the crash still holds")
                return
            }
            #expect(winner.decidedBy == "alice")
        }
    }
}
