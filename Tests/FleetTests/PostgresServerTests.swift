import Fleet
import Foundation
import PostgresTestSupport
import Testing

@Suite("PostgreSQL test server", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct PostgresServerTests {
    @Test("each server is its own copy; kill -9 and restart keep what was committed; stop ends it")
    func lifecycle() async throws {
        let first = try await PostgresServer.start()
        let second = try await PostgresServer.start()
        #expect(first.port != second.port && first.dataDirectory != second.dataDirectory)
        try first.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        #expect(throws: PostgresServerError.self) { try second.psql("SELECT n FROM kept") }

        let killed = try #require(first.postmasterPID)
        try await first.kill()
        #expect(kill(killed, 0) != 0, "the postmaster is gone")
        #expect(throws: PostgresServerError.self) { try first.psql("SELECT 1") }
        try await first.restart()
        #expect(try first.psql("SELECT n FROM kept") == "42")

        try await second.stop()
        #expect(second.postmasterPID == nil)
        try await second.restart()
        #expect(try second.psql("SELECT 1") == "1")
    }

    @Test("TCP needs the password; the superuser's works")
    func passwordOverTCP() async throws {
        let database = try await FleetTestDatabase.start()
        try database.server.createRole("reader", password: "reader-password")
        try await database.withStore(role: "reader", password: "reader-password", migrate: false) { store in
            let version = try await store.migrator.version()
            #expect(version == 0)
        }
        await #expect(throws: FleetStoreError.self) {
            try await database.withStore(role: "reader", password: "wrong", migrate: false) { _ in }
        }
    }
}
