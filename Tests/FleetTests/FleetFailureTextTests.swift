import Fleet
import Foundation
import PostgresNIO
import Testing

@testable import Fleet

/// What the store says when the server refuses something: the server's words,
/// escaped. A DETAIL quotes the failing row, whose values can be a sidecar's
/// text, on their way to `watch`'s terminal or the journal.
@Suite("Fleet: the server's words, escaped", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetFailureTextTests {
    @Test("a refused row whose values hold escape sequences and newlines is described without them")
    func escapedDetail() async throws {
        let database = try await FleetTestDatabase.start()
        let hostile = "evil\u{1B}]0;owned\u{07}\u{1B}[2J\nbottle-supervise relay: caught up"
        let described: FleetStoreError = try await database.withStore { store in
            do {
                try await store.client.query(
                    "INSERT INTO fleet_hosts (host, relay_version) VALUES ('a', \(hostile))", logger: .init(label: "test"))
                try await store.client.query(
                    "INSERT INTO fleet_bottles (host, bottle) VALUES ('a', \(hostile))", logger: .init(label: "test"))
                // Refused by the proposals' CHECK on the id; the DETAIL quotes the whole row.
                try await store.client.query(
                    """
                    INSERT INTO fleet_proposals (host, bottle, id, tool, proposal, proposal_sha256, proposed_file,
                        justification, created_at)
                    VALUES ('a', \(hostile), \(hostile), 'pipelock-block', '\\x00', \(String(repeating: "0", count: 64)),
                        \(hostile), \(hostile), now())
                    """, logger: .init(label: "test"))
                Issue.record("the row was accepted")
                return .unavailable("")
            } catch {
                return FleetDatabaseFailure.describe(error, doing: "mirroring host a")
            }
        }
        let message = described.message
        #expect(message.contains("mirroring host a: the server said:"), "\(message)")
        #expect(message.contains("SQLSTATE 23514"), "\(message)")
        #expect(message.contains("Failing row contains"), "the DETAIL is kept: \(message)")
        #expect(!message.contains("\u{1B}") && !message.contains("\u{07}") && !message.contains("\n"), "\(message)")
        #expect(Relay.describe(described) == message)
    }
}
