import Logging
import PostgresNIO

/// Brings a database's fleet schema to ``FleetSchema/version``.
///
/// The pending migrations run in one transaction under
/// `pg_advisory_xact_lock(FleetSchema.migrationLock)`: two relays starting at
/// once serialise on the lock, one migrates, the other then finds the
/// version already reached and does nothing. A crash mid-migration rolls the
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
    ///
    /// Every pending migration runs in one transaction that holds
    /// `pg_advisory_xact_lock(FleetSchema.migrationLock)` from the version read
    /// to the commit: of two relays starting at once on an old database, one
    /// climbs all the way and the other then finds the latest version (were the
    /// lock released between migrations, the second would run the next one
    /// and both would report having migrated). A failing migration rolls the
    /// whole climb back, so the database stays at the version it had.
    /// - Throws: ``FleetStoreError/schemaTooNew(_:)``, ``FleetStoreError/needsMigration(_:)``
    ///   (the role may not create the tables, or the fleet's group roles are
    ///   missing and it may not create them), or a database failure.
    @discardableResult
    public func migrate() async throws(FleetStoreError) -> Report {
        // A current schema is read without the lock: any role may take an advisory lock and
        // hold it, and a relay that waited on it at every start could be kept out for good.
        let seen = try await version()
        if seen > FleetSchema.version { throw Self.tooNew(seen) }
        if seen == FleetSchema.version { return Report(from: seen, to: seen) }
        do {
            let from = try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(FleetSchema.migrationLock))", logger: logger)
                let current = try await Self.version(on: connection, logger: logger)
                if current > FleetSchema.version { throw Self.tooNew(current) }
                for step in current..<FleetSchema.version {
                    for statement in SQLScript.statements(FleetSchema.migrations[step]) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("UPDATE fleet_schema SET version = \(step + 1)", logger: logger)
                    logger.info("migrated the fleet schema", metadata: ["from": "\(step)", "to": "\(step + 1)"])
                }
                return current
            }
            return Report(from: from, to: FleetSchema.version)
        } catch {
            switch FleetDatabaseFailure.sqlState(error) {
            case FleetDatabaseFailure.insufficientPrivilege:
                throw .needsMigration(
                    "the database role may not create or change the fleet's tables; run \(Self.migrateCommand) "
                        + "as the role that owns the schema, then start this again (\(Self.serverMessage(error)))")
            case FleetSchema.missingGroupRolesState:
                // The migration's own sentence: which roles, and the statements a superuser runs.
                throw .needsMigration(Self.serverMessage(error))
            default:
                throw FleetDatabaseFailure.describe(error, doing: "migrating the fleet schema")
            }
        }
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
        // A query of pg_class under the statement's snapshot, not to_regclass(): that one reads
        // the backend's catalog snapshot, which waiting on the advisory lock does not refresh, so a
        // relay that waited while another created the tables would still see none.
        for try await exists in try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relname = 'fleet_schema' AND n.nspname = current_schema())
            """, logger: logger
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
