import ArgumentParser
import Fleet
import Foundation
import Queue
import SidecarCommandLine

/// `--database` and `--database-password-file`, for the operator commands that
/// can work through the fleet's PostgreSQL instead of this host's queue
/// (`list`, `show`, `approve`, `modify`, `reject`).
///
/// Only the flag switches a command to the database: `$SUPERVISE_DATABASE_URL`
/// and `[fleet] database` are where the *relay* finds it, and an operator
/// command that silently read another host's proposals because a variable was
/// set would answer "what is pending here?" with the fleet's answer.
struct FleetDatabaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Work through the fleet's PostgreSQL (every host's proposals) instead of this host's queue: "
                + "postgres://ROLE@HOST:PORT/DBNAME (docs/fleet.md); the password from $PGPASSWORD or --database-password-file.",
            valueName: "url"))
    var database: String?

    @Option(
        name: .customLong("database-password-file"),
        help: ArgumentHelp(
            "A file (owner-only, not a link) holding the database role's password, with --database.",
            valueName: "path"))
    var databasePasswordFile: String?

    /// A URL that cannot be a database, or a password file without a database, is a usage error (2) now.
    func validate() throws {
        if let database {
            try Self.validate(database: database)
        } else if let databasePasswordFile {
            throw ValidationError(
                "--database-password-file \(Escaped(databasePasswordFile)) was given without --database: add --database URL")
        }
    }

    /// A `--database` URL that cannot name a database (or carries a password) is a usage error (2).
    static func validate(database: String) throws {
        do throws(FleetSettingsError) {
            _ = try FleetDatabaseSettings.parse(database, source: "--database")
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The database's settings when `--database` is given; `nil` otherwise (the command works on this host's queue).
    func settings() throws(Failure) -> FleetDatabaseSettings? {
        guard let database else { return nil }
        do throws(FleetSettingsError) {
            let settings = try FleetDatabaseSettings.resolve(flag: database, passwordFileFlag: databasePasswordFile)
            settings?.sayWarning()
            return settings
        } catch {
            throw .usage(error.message)
        }
    }
}

extension FleetDatabaseSettings {
    /// ``warning`` (an unverified TLS connection across a network), on standard error, before connecting.
    func sayWarning() {
        guard let warning else { return }
        FileHandle.standardError.write(Data("bottle-supervise: warning: \(warning)\n".utf8))
    }
}

/// `--host`, for `show`, `approve`, `modify` and `reject` with `--database`: which host's
/// proposal, when two hosts have one with the same id.
struct FleetHostOption: ParsableArguments {
    @Option(
        name: .customLong("host"),
        help: ArgumentHelp(
            "With --database: the host whose proposal it is (needed only when two hosts have one with this id).",
            valueName: "name"))
    var host: FleetHostArgument?
}

/// A fleet host name as typed on the command line (checked like the schema's CHECK).
struct FleetHostArgument: ExpressibleByArgument, Sendable {
    let name: FleetHostName

    init?(argument: String) {
        guard let name = try? FleetHostName(argument, source: "--host") else { return nil }
        self.name = name
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
