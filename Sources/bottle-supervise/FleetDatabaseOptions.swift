import ArgumentParser
import Fleet
import Foundation
import Queue
import SystemPackage

/// `--database URL` and `--database-password-file PATH` for the commands
/// that work on the fleet database (`web`, `operators`), resolved with
/// `$SUPERVISE_DATABASE_URL` and the host settings file's `[fleet]` table
/// (``FleetDatabaseSettings``: the password never comes from a command line).
struct FleetDatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database"),
        help: """
            The fleet database, postgres://ROLE@HOST:PORT/DBNAME[?sslmode=…] (default: $SUPERVISE_DATABASE_URL, \
            then [fleet] database in the host settings file); the password comes from $PGPASSWORD or a password file.
            """)
    var database: String?

    @Option(
        name: .customLong("database-password-file"),
        help: "A file holding the fleet database role's password (owner-only, not a link).")
    var databasePasswordFile: String?

    /// A URL that does not parse, or a password file that is not there, is a
    /// usage error naming the flag, before anything connects.
    func validate() throws {
        if let database {
            do { _ = try FleetDatabaseSettings.parse(database, source: "--database") } catch {
                throw ValidationError(error.description)
            }
        }
        if let passwordFile = databasePasswordFile {
            var info = stat()
            guard stat(passwordFile, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw ValidationError(
                    "--database-password-file \(Escaped(passwordFile)) is not a file; give the file holding the role's password (mode 0600)")
            }
        }
    }
}
