@testable import Fleet
import Foundation
import PostgresTestSupport
import Testing

@Suite("Fleet migrations against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetMigratorTests {
    @Test("two relays migrating at once: each migration runs once, both succeed")
    func concurrentMigrations() async throws {
        let database = try await FleetTestDatabase.start()
        let reports = try await withThrowingTaskGroup(of: FleetMigrator.Report.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await database.withStore(migrate: false) { store in try await store.migrator.migrate() }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // One transaction per migration under the lock: with several migrations the two may take turns
        // (a 0→1, b 1→2), but none runs twice — it would fail ("already exists") and so would its relay.
        #expect(reports.contains { $0.migrated }, "\(reports)")
        #expect(reports.allSatisfy { $0.to == FleetSchema.version })
        #expect(try database.psql("SELECT version FROM fleet_schema") == "\(FleetSchema.version)")
        #expect(try database.psql("SELECT count(*) FROM fleet_schema") == "1")
        let again = try await database.withStore(migrate: false) { store in try await store.migrator.migrate() }
        #expect(!again.migrated && again.from == FleetSchema.version)
    }

    @Test("a role that may not create tables is told the command to run as the schema's owner")
    func roleWithoutCreate() async throws {
        let database = try await FleetTestDatabase.start()
        try database.server.createRole("relay_a", password: "relay-a-password")
        let error = try await database.withStore(role: "relay_a", password: "relay-a-password", migrate: false) { store in
            await #expect(throws: FleetStoreError.self) { try await store.migrator.migrate() }
        }
        guard case .needsMigration(let message) = error else {
            Issue.record("expected needsMigration, got \(String(describing: error))")
            return
        }
        #expect(message.contains("bottle-supervise relay --migrate-only --database URL"), "\(message)")
        #expect(message.contains("permission denied"), "\(message)")
        #expect(try database.psql("SELECT to_regclass('fleet_schema') IS NULL") == "t", "nothing half-made")

        // Once the owner migrated, the same role runs: nothing to do, nothing to create.
        try await database.withStore { _ in }
        try database.psql("GRANT SELECT ON fleet_schema TO relay_a")
        let report = try await database.withStore(role: "relay_a", password: "relay-a-password", migrate: false) { store in
            try await store.migrator.migrate()
        }
        #expect(!report.migrated)
    }

    @Test("a database newer than this program is refused, and left as it is")
    func newerDatabase() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { _ in }
        try database.psql("UPDATE fleet_schema SET version = \(FleetSchema.version + 1)")
        try await database.withStore(migrate: false) { store in
            let error = await #expect(throws: FleetStoreError.self) { try await store.migrator.migrate() }
            guard case .schemaTooNew(let message) = error else {
                Issue.record("expected schemaTooNew, got \(String(describing: error))")
                return
            }
            #expect(message.contains("version \(FleetSchema.version + 1), newer than this program's \(FleetSchema.version)"))
            #expect(message.contains("upgrade bottle-supervise"))
            await #expect(throws: FleetStoreError.self) { try await store.migrator.requireCurrent() }
        }
        #expect(try database.psql("SELECT version FROM fleet_schema") == "\(FleetSchema.version + 1)")
    }

    @Test("an unmigrated database is reported with the command, by a check that changes nothing")
    func requireCurrentOnEmpty() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore(migrate: false) { store in
            #expect(try await store.migrator.version() == 0)
            let error = await #expect(throws: FleetStoreError.self) { try await store.migrator.requireCurrent() }
            #expect(error?.message.contains("--migrate-only") == true)
            try await store.migrator.migrate()
            try await store.migrator.requireCurrent()
        }
    }

    @Test("the wrong password, or a server that is down, fails at once with the server's words, never the password")
    func connectionFailures() async throws {
        let database = try await FleetTestDatabase.start()
        let started = ContinuousClock.now
        let error = await #expect(throws: FleetStoreError.self) {
            try await database.withStore(password: "not-the-password", migrate: false) { _ in }
        }
        #expect(error?.message.contains("password authentication failed for user \"postgres\"") == true, "\(String(describing: error))")
        #expect(error?.message.contains("not-the-password") == false)
        try await database.server.stop()
        let down = await #expect(throws: FleetStoreError.self) { try await database.withStore(migrate: false) { _ in } }
        guard case .unavailable(let message) = down else {
            Issue.record("expected unavailable, got \(String(describing: down))")
            return
        }
        #expect(message.contains("connecting to postgres://postgres:***@127.0.0.1:\(database.server.port)/fleet"), "\(message)")
        #expect(ContinuousClock.now - started < .seconds(20), "no retrying in the background")
    }

    @Test("a migration script is cut at semicolons outside quotes, dollar bodies and comments")
    func scriptStatements() throws {
        let statements = SQLScript.statements(
            """
            -- a comment; with a semicolon
            CREATE TABLE t (a text DEFAULT 'x;y');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM 1; RETURN NULL; END $$;
            /* block; comment */ SELECT "odd;name" FROM t;
            SELECT $tag$ a;b $tag$;
            ;
            """)
        #expect(statements.count == 4, "\(statements)")
        #expect(statements[1].hasSuffix("END $$"))
        #expect(SQLScript.statements(FleetSchema.migrations[0]).count > 8)
    }
}
