import Logging
import PostgresNIO

/// Brings a database's fleet schema to ``FleetSchema/version``.
///
/// Every pending migration runs in one transaction under
/// `pg_advisory_xact_lock(FleetSchema.migrationLock)`: two relays starting at
/// once serialise on the lock, one migrates, the other then finds the
/// version already reached and does nothing. (One transaction per migration
/// would let the second relay take the lock between two of them and run the
/// rest: both would say they migrated.) A crash mid-migration rolls the
/// transaction back, leaving the previous version whole.
///
/// Two refusals protect the data: a database whose schema is newer than this
/// program (an older relay would write rows the newer schema means
/// differently), and a role that may not create the tables, which is told the
/// command to run as the schema's owner instead of a bare permission error.
public struct FleetMigrator: Sendable {
    /// What a call to ``migrate()`` found and did.
    public struct Report: Sendable, Equatable {
        /// The version before (0 for a database without the fleet's tables).
        public var from: Int
        /// The version after: ``FleetSchema/version``.
        public var to: Int
        /// Whether this call ran any migration (false: another relay had, or none was needed).
        public var migrated: Bool { to > from }
    }

    /// The command that migrates, for messages to a role that cannot.
    public static let migrateCommand = "bottle-supervise relay --migrate-only --database URL"

    let client: PostgresClient
    let logger: Logger

    /// A migrator using `client` (which the caller runs).
    public init(client: PostgresClient, logger: Logger = Logger(label: "bottle-supervise.fleet.migrator")) {
        self.client = client
        self.logger = logger
    }

    /// The schema's version in the database: 0 when it has no fleet tables.
    public func version() async throws(FleetStoreError) -> Int {
        do {
            return try await client.withConnection { connection in try await Self.version(on: connection, logger: logger) }
        } catch {
            throw FleetDatabaseFailure.describe(error, doing: "reading the fleet schema's version")
        }
    }

    /// Migrates to ``FleetSchema/version``.
    /// - Throws: ``FleetStoreError/schemaTooNew(_:)``, ``FleetStoreError/needsMigration(_:)``
    ///   (the role may not create the tables), or a database failure.
    @discardableResult
    public func migrate() async throws(FleetStoreError) -> Report {
        let from: Int
        do {
            from = try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(FleetSchema.migrationLock))", logger: logger)
                let current = try await Self.version(on: connection, logger: logger)
                if current > FleetSchema.version { throw Self.tooNew(current) }
                guard current < FleetSchema.version else { return current }
                for migration in FleetSchema.migrations[current...] {
                    for statement in SQLScript.statements(migration) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                }
                try await connection.query("UPDATE fleet_schema SET version = \(FleetSchema.version)", logger: logger)
                logger.info(
                    "migrated the fleet schema", metadata: ["from": "\(current)", "to": "\(FleetSchema.version)"])
                return current
            }
        } catch {
            if FleetDatabaseFailure.sqlState(error) == FleetDatabaseFailure.insufficientPrivilege {
                throw .needsMigration(
                    "the database role may not create or change the fleet's tables; run \(Self.migrateCommand) "
                        + "as the role that owns the schema, then start this again (\(Self.serverMessage(error)))")
            }
            throw FleetDatabaseFailure.describe(error, doing: "migrating the fleet schema")
        }
        return Report(from: from, to: FleetSchema.version)
    }

    /// Checks, without changing anything, that the database is at exactly this
    /// program's version (for a role that only reads and writes rows).
    public func requireCurrent() async throws(FleetStoreError) {
        let current = try await version()
        if current > FleetSchema.version { throw Self.tooNew(current) }
        if current < FleetSchema.version {
            throw .needsMigration(
                "the fleet schema is at version \(current), this program needs \(FleetSchema.version); run "
                    + "\(Self.migrateCommand) as the role that owns the schema")
        }
    }

    static func tooNew(_ current: Int) -> FleetStoreError {
        .schemaTooNew(
            "the database's fleet schema is at version \(current), newer than this program's \(FleetSchema.version); "
                + "upgrade bottle-supervise on this host (an older relay would misread the newer tables)")
    }

    static func version(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var present = false
        for try await exists in try await connection.query(
            "SELECT to_regclass('fleet_schema') IS NOT NULL", logger: logger
        ).decode(Bool.self) {
            present = exists
        }
        guard present else { return 0 }
        var version = 0
        for try await found in try await connection.query("SELECT max(version) FROM fleet_schema", logger: logger)
            .decode(Int?.self)
        {
            version = found ?? 0
        }
        return version
    }

    static func serverMessage(_ error: any Error) -> String {
        FleetDatabaseFailure.serverError(error)?.serverInfo?[.message] ?? "permission denied"
    }
}
