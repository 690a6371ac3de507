import Apply
import ArgumentParser
import Fleet
import Foundation
import Logging
import Queue
import ServiceLifecycle
import SidecarCommandLine

/// `bottle-supervise relay`: this host's link to the fleet's PostgreSQL.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Mirror this host's queue root into the fleet's PostgreSQL and apply decisions made elsewhere.",
        discussion: """
            Runs until SIGTERM or SIGINT (docs/fleet.md has a systemd unit). The database: --database, then \
            $SUPERVISE_DATABASE_URL, then [fleet] database in the host settings file; the password from \
            --database-password-file, $PGPASSWORD or [fleet] password_file, never the command line. The relay creates \
            or migrates the fleet's tables when its role may (otherwise it says which command to run), mirrors \
            every bottle's proposals, and applies on this host, through the same checks as approve, the decisions \
            operators make in the database about this host's bottles. With the database down the host keeps working \
            on its files alone; the relay retries (1 s doubling to 30 s) and catches up when it is back. `watch` runs \
            the relay too when the settings file has [fleet] database. \
            Exit status: 0 stopped by a signal, or --migrate-only done; 1 failed (the database refused the role, or \
            its schema is newer than this program); 2 usage error (no database given, a bad URL or host name).
            """
    )

    @Option(
        help: ArgumentHelp(
            "The fleet's PostgreSQL: postgres://ROLE@HOST:PORT/DBNAME (default: $SUPERVISE_DATABASE_URL, then [fleet] database in the settings file).",
            valueName: "url"))
    var database: String?

    @Option(
        name: .customLong("database-password-file"),
        help: ArgumentHelp(
            "A file (owner-only, not a link) holding the database role's password (default: $PGPASSWORD, then [fleet] password_file).",
            valueName: "path"))
    var databasePasswordFile: String?

    @Option(
        name: .customLong("host-name"),
        help: ArgumentHelp(
            "This host's name in the fleet: lower-case letters, digits, '.' and '-' (default: [fleet] host_name, then the machine's host name).",
            valueName: "name"))
    var hostName: String?

    @Flag(name: .customLong("migrate-only"), help: "Create or migrate the fleet's tables, then exit (run it as the role that owns the schema).")
    var migrateOnly = false

    @Option(help: "The host settings file whose [fleet] table is read, and whose [fleet] approvals and [[policy.rule]] approvals set how many operators each proposal needs (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    func validate() throws {
        if let hostName {
            do throws(FleetSettingsError) {
                _ = try FleetHostName(hostName, source: "--host-name")
            } catch {
                throw ValidationError(error.message)
            }
        }
        // Read when the relay starts (it must be a 0600 regular file: FleetDatabaseSettings says
        // so then); one that is not there at all is a typo, said now.
        if let databasePasswordFile, !FileManager.default.fileExists(atPath: databasePasswordFile) {
            throw ValidationError(
                "--database-password-file \(Escaped(databasePasswordFile)): no such file; give the file holding the "
                    + "database role's password (chmod 600)")
        }
        if let database { try FleetDatabaseOptions.validate(database: database) }
    }

    func run() async throws {
        if !migrateOnly {
            try locations.requireQueueRoot()
            try locations.requireConfigRoot()
        }
        try HostSettingsPath(flag: settings).requireNamedFile()
        let fleet = try Self.fleetSettings(settings: settings)
        guard
            let database = try Self.database(
                flag: database, passwordFile: databasePasswordFile, fleet: fleet, required: true)
        else { return }
        if migrateOnly {
            do {
                let report = try await FleetStore.withStore(settings: database, logger: Self.logger) { store in
                    try await store.migrator.migrate()
                }
                print(
                    report.migrated
                        ? "migrated the fleet schema from version \(report.from) to \(report.to)"
                        : "the fleet schema is at version \(report.to): nothing to migrate")
            } catch {
                throw Failure.failed(Relay.describe(error))
            }
            return
        }
        var configuration = Relay.Configuration(
            database: database, host: try Self.hostName(flag: hostName, fleet: fleet),
            queueRoot: locations.queueRoot, configRoot: locations.configRoot, engine: apply.containerEngine)
        configuration.settings = HostSettingsPath(flag: settings).path
        let relay = Relay(configuration: configuration, logger: Self.logger, announce: Self.announcer(command: "relay"))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: relay)], gracefulShutdownSignals: [.sigterm, .sigint], logger: Self.logger))
        do {
            try await group.run()
        } catch {
            throw Failure.failed(Relay.describe(error))
        }
    }

    /// The relay's log: warnings and errors on standard error.
    static var logger: Logger {
        var logger = Logger(label: "bottle-supervise.relay")
        logger.logLevel = .warning
        return logger
    }

    /// The relay's lines for the operator, on standard error.
    static func announcer(command: String) -> @Sendable (String) -> Void {
        { line in FileHandle.standardError.write(Data("bottle-supervise \(command): \(line)\n".utf8)) }
    }

    /// The `[fleet]` table of the settings file (none when the default file is missing); the fleet
    /// page's keys (`approvals`) are known, not refused: one host.toml serves `watch` and `web`.
    static func fleetSettings(settings: String?) throws(Failure) -> FleetSettingsTable {
        do throws(FleetSettingsError) {
            return try FleetSettingsTable.load(from: HostSettingsPath(flag: settings).path, otherKeys: FleetWebSettings.keys)
        } catch {
            throw .usage(error.message)
        }
    }

    /// The database from the flag, the environment or the settings file.
    /// - Parameter required: no database anywhere is a usage error (the `relay` command); otherwise `nil`.
    static func database(flag: String?, passwordFile: String?, fleet: FleetSettingsTable, required: Bool)
        throws(Failure) -> FleetDatabaseSettings?
    {
        let found: FleetDatabaseSettings?
        do throws(FleetSettingsError) {
            found = try FleetDatabaseSettings.resolve(flag: flag, passwordFileFlag: passwordFile, settings: fleet)
        } catch {
            throw .usage(error.message)
        }
        if found == nil, required {
            throw .usage(
                "no fleet database: give --database URL, set $\(FleetDatabaseSettings.urlVariable), or add "
                    + "[fleet] database = \"postgres://…\" to the host settings file (docs/fleet.md)")
        }
        return found
    }

    /// This host's name: the flag, then `[fleet] host_name`, then the machine's.
    static func hostName(flag: String?, fleet: FleetSettingsTable) throws(Failure) -> FleetHostName {
        do throws(FleetSettingsError) {
            return try FleetHostName.resolve(flag: flag, settings: fleet)
        } catch {
            throw .usage(error.message)
        }
    }
}
