import Console
import Foundation
import Testing

@testable import Fleet

@Suite("Fleet database settings")
struct FleetDatabaseSettingsTests {
    /// The message a source refuses with (any other outcome fails the test).
    func refusal(
        flag: String? = nil, passwordFile: String? = nil, settings: FleetSettingsTable = FleetSettingsTable(),
        environment: [String: String] = [:]
    ) -> String {
        do {
            let settings = try FleetDatabaseSettings.resolve(
                flag: flag, passwordFileFlag: passwordFile, settings: settings, environment: environment)
            return "accepted: \(String(describing: settings))"
        } catch {
            return error.message
        }
    }

    func parsed(_ url: String, environment: [String: String] = [:]) throws -> FleetDatabaseSettings {
        try #require(try FleetDatabaseSettings.resolve(flag: url, passwordFileFlag: nil, environment: environment))
    }

    @Test("no source: no database, the host works alone")
    func noSource() throws {
        #expect(try FleetDatabaseSettings.resolve(flag: nil, passwordFileFlag: nil, environment: [:]) == nil)
    }

    @Test("the first source given wins: --database, then $SUPERVISE_DATABASE_URL, then [fleet] database")
    func precedence() throws {
        var table = FleetSettingsTable()
        table.database = "postgres://fromfile@db.example/fleet"
        let environment = ["SUPERVISE_DATABASE_URL": "postgres://fromenv@db.example/fleet"]
        let flag = try #require(
            try FleetDatabaseSettings.resolve(
                flag: "postgres://fromflag@db.example/fleet", passwordFileFlag: nil, settings: table,
                environment: environment))
        #expect(flag.role == "fromflag" && flag.source == "--database")
        let env = try #require(
            try FleetDatabaseSettings.resolve(flag: nil, passwordFileFlag: nil, settings: table, environment: environment))
        #expect(env.role == "fromenv" && env.source == "$SUPERVISE_DATABASE_URL")
        let file = try #require(try FleetDatabaseSettings.resolve(flag: nil, passwordFileFlag: nil, settings: table, environment: [:]))
        #expect(file.role == "fromfile" && file.source == "[fleet] database")
    }

    @Test("a URL's parts, and TLS verify-full by default off loopback")
    func parts() throws {
        let remote = try parsed("postgresql://relay_a@db.example.com:6543/fleet")
        #expect(remote.endpoint == .tcp(host: "db.example.com", port: 6543))
        #expect(remote.role == "relay_a" && remote.database == "fleet" && remote.tls == .verifyFull)
        #expect(try parsed("postgres://r@127.0.0.1/fleet").tls == .disable)
        #expect(try parsed("postgres://r@localhost/fleet").tls == .disable)
        #expect(try parsed("postgres://r@[::1]:5433/fleet").endpoint == .tcp(host: "::1", port: 5433))
        #expect(try parsed("postgres://r@[::1]:5433/fleet").tls == .disable)
        #expect(try parsed("postgres://r@db.example/fleet?sslmode=require").tls == .require)
        #expect(try parsed("postgres://r@127.0.0.1/fleet?sslmode=verify-full").tls == .verifyFull)
        let socket = try parsed("postgres://r@/fleet?host=/run/postgresql")
        #expect(socket.endpoint == .unixSocket(directory: "/run/postgresql", port: 5432) && socket.tls == .disable)
        #expect(try socket.clientConfiguration().unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(try parsed("postgres://fleet%20ops@db.example").role == "fleet ops")
        #expect(try parsed("postgres://ops@db.example").database == "ops", "the database defaults to the role, as libpq's")
        let pinned = try parsed("postgres://r@db.example/fleet?sslmode=verify-full&sslrootcert=/etc/ssl/fleet-ca.pem")
        #expect(pinned.rootCertificatePath == "/etc/ssl/fleet-ca.pem")
    }

    @Test("sslmode=require across a network is allowed but warned about, naming the fix; loopback and verify-full are quiet")
    func unverifiedTLSWarning() throws {
        let warning = try #require(try parsed("postgres://r@db.example/fleet?sslmode=require").warning)
        #expect(warning.contains("sslmode=require") && warning.contains("db.example"))
        #expect(warning.contains("not checked") && warning.contains("sslmode=verify-full"))
        #expect(try parsed("postgres://r@[2001:db8::5]/fleet?sslmode=require").warning != nil)
        #expect(try parsed("postgres://r@127.0.0.1/fleet?sslmode=require").warning == nil)
        #expect(try parsed("postgres://r@db.example/fleet").warning == nil)
        #expect(try parsed("postgres://r@127.0.0.1/fleet").warning == nil)
        let hostile = try #require(try parsed("postgres://r@db%1b%5b2Jexample/fleet?sslmode=require").warning)
        #expect(!hostile.contains("\u{1b}"), "the host name is escaped: \(hostile)")
    }

    @Test("a password in --database or [fleet] database is refused, naming $PGPASSWORD and password_file")
    func passwordOnCommandLine() {
        let message = refusal(flag: "postgres://relay:hunter2@db.example/fleet")
        #expect(message.contains("--database carries a password"))
        #expect(message.contains("$PGPASSWORD") && message.contains("password_file") && message.contains("--database-password-file"))
        #expect(!message.contains("hunter2"), "the refusal must not repeat the password")
        var table = FleetSettingsTable()
        table.database = "postgres://relay:hunter2@db.example/fleet"
        table.path = "/etc/host.toml"
        let fromFile = refusal(settings: table)
        #expect(fromFile.contains("[fleet] database in /etc/host.toml carries a password") && !fromFile.contains("hunter2"))
    }

    @Test("passwords come from $SUPERVISE_DATABASE_URL, --database-password-file, $PGPASSWORD, password_file, in that order")
    func passwordSources() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.secret("from-file\n")
        let env = try #require(
            try FleetDatabaseSettings.resolve(
                flag: nil, passwordFileFlag: nil,
                environment: ["SUPERVISE_DATABASE_URL": "postgres://r:from%40url@db.example/f", "PGPASSWORD": "pg"]))
        #expect(env.password == "from@url")
        let flagFile = try #require(
            try FleetDatabaseSettings.resolve(
                flag: "postgres://r@db.example/f", passwordFileFlag: file, environment: ["PGPASSWORD": "pg"]))
        #expect(flagFile.password == "from-file")
        var table = FleetSettingsTable()
        table.passwordFile = file
        let pg = try #require(
            try FleetDatabaseSettings.resolve(
                flag: "postgres://r@db.example/f", passwordFileFlag: nil, settings: table, environment: ["PGPASSWORD": "pg"]))
        #expect(pg.password == "pg")
        let tableFile = try #require(
            try FleetDatabaseSettings.resolve(flag: "postgres://r@db.example/f", passwordFileFlag: nil, settings: table, environment: [:]))
        #expect(tableFile.password == "from-file")
        #expect(!String(describing: pg).contains("pg@") && String(describing: pg).contains(":***@"))
        #expect(!String(reflecting: tableFile).contains("from-file"), "a settings value never prints its password")
    }

    @Test("a password file others can read, a link, or a missing one is refused with the fix")
    func passwordFileRefusals() throws {
        let directory = try TemporaryDirectory()
        let open = try directory.secret("pw", mode: 0o644)
        let message = refusal(flag: "postgres://r@db.example/f", passwordFile: open)
        #expect(message.contains("--database-password-file") && message.contains("chmod 600 \(open)"))
        let link = directory.path + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: try directory.secret("pw"))
        #expect(refusal(flag: "postgres://r@db.example/f", passwordFile: link).contains("a symbolic link is refused"))
        #expect(refusal(flag: "postgres://r@db.example/f", passwordFile: directory.path + "/none").contains("cannot open the password file"))
        #expect(refusal(flag: "postgres://r@db.example/f", passwordFile: try directory.secret("  \n")).contains("is empty"))
        #expect(refusal(passwordFile: try directory.secret("pw")).contains("--database-password-file was given but no database"))
    }

    @Test("every malformed URL is refused with the value, the source and what to write", arguments: [
        ("mysql://r@db/f", "is not a PostgreSQL URL"),
        ("db.example/fleet", "is not a PostgreSQL URL"),
        ("postgres://db.example/fleet", "names no role"),
        ("postgres://@db.example/fleet", "names no role"),
        ("postgres://r@/fleet", "names no host"),
        ("postgres://r@db.example:0/fleet", "has port \"0\""),
        ("postgres://r@db.example:http/fleet", "has port \"http\""),
        ("postgres://r@[::1/fleet", "unclosed ["),
        ("postgres://r@db.example/fleet?sslmode=prefer", "use disable, require or verify-full"),
        ("postgres://r@db.example/fleet?sslmode=verify-ca", "use disable, require or verify-full"),
        ("postgres://r@db.example/fleet?sslrootcert=ca.pem&sslmode=verify-full", "give an absolute path"),
        ("postgres://r@db.example/fleet?sslmode=require&sslrootcert=/ca.pem", "without sslmode=verify-full"),
        ("postgres://r@/fleet?host=run/postgresql", "names a Unix socket directory"),
        ("postgres://r@db.example/fleet?host=/run/postgresql", "names both a host and"),
        ("postgres://r@/fleet?host=/run/postgresql&sslmode=require", "which has no TLS"),
        ("postgres://r@db.example/fleet?application_name=x", "the parameters understood are sslmode, sslrootcert and host"),
        ("postgres://r@db.example/fleet#frag", "has a fragment"),
        ("postgres://r@db.example/a/b", "database name with '/'"),
        ("postgres://r%ZZ@db.example/f", "role that is empty or not valid percent-encoding"),
    ])
    func malformed(url: String, expected: String) {
        let message = refusal(flag: url)
        #expect(message.hasPrefix("--database \""), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test("a refused URL from the environment names the variable and hides its password")
    func environmentRefusal() {
        let message = refusal(environment: ["SUPERVISE_DATABASE_URL": "postgres://r:secret@db.example/f?sslmode=allow"])
        #expect(message.hasPrefix("$SUPERVISE_DATABASE_URL \"postgres://r:***@db.example"), "\(message)")
        #expect(!message.contains("secret"))
    }

    /// A base64 password often holds `/`: unencoded, it ends the authority where a URL parser
    /// looks, the URL no longer parses, and the refusal must still not print the password.
    @Test("a refused URL whose password holds '/' or '?' does not print the password")
    func passwordWithSlash() {
        for password in ["Xq7/Zk9+w0==", "Xq7?Zk9", "Xq7/Zk9@w0"] {
            let message = refusal(environment: ["SUPERVISE_DATABASE_URL": "postgres://r:\(password)@db.example/f"])
            #expect(!message.contains("Xq7") && !message.contains("Zk9") && !message.contains("w0"), "\(message)")
            #expect(message.contains(":***@db.example"), "\(message)")
        }
    }

    @Test("a missing sslrootcert is refused when the client is configured")
    func missingRootCertificate() throws {
        let settings = try parsed("postgres://r@db.example/f?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        #expect(throws: FleetSettingsError.invalid("--database: cannot read sslrootcert /nonexistent/ca.pem")) {
            try settings.clientConfiguration()
        }
    }

    @Test("the [fleet] table: known keys, strict about the rest")
    func settingsTable() throws {
        let table = try FleetSettingsTable.parse(
            """
            [notify]
            desktop = true
            [fleet]
            database = "postgres://relay@db.example/fleet"
            password_file = "/etc/bottle/db-password"
            host_name = "web-1.example"
            """, path: "/etc/host.toml")
        #expect(table.database == "postgres://relay@db.example/fleet")
        #expect(table.passwordFile == "/etc/bottle/db-password" && table.hostName?.rawValue == "web-1.example")
        #expect(try FleetSettingsTable.parse("[notify]\ndesktop = true\n") == FleetSettingsTable())
        #expect(throws: FleetSettingsError.invalid("/etc/host.toml: unknown key fleet.databse; expected one of database, host_name, password_file")) {
            try FleetSettingsTable.parse("[fleet]\ndatabse = \"x\"\n", path: "/etc/host.toml")
        }
        #expect(try FleetSettingsTable.parse("[fleet]\napprovals = 2\n", otherKeys: ["approvals"]).database == nil)
        #expect(throws: FleetSettingsError.invalid("[fleet] database must be a non-empty string")) {
            try FleetSettingsTable.parse("[fleet]\ndatabase = 5\n")
        }
        #expect(throws: FleetSettingsError.invalid("the settings file: fleet must be a table: [fleet]")) {
            try FleetSettingsTable.parse("fleet = 1\n")
        }
        let badName = #expect(throws: FleetSettingsError.self) { try FleetSettingsTable.parse("[fleet]\nhost_name = \"Web_1\"\n") }
        #expect(badName?.message.hasPrefix("[fleet] host_name \"Web_1\" is not a fleet host name") == true)
    }

    @Test("host names follow the schema's CHECK")
    func hostNames() throws {
        for good in ["a", "web-1", "web-1.example.com", String(repeating: "a", count: 64), "0"] {
            #expect(FleetHostName.isValid(good), "\(good)")
        }
        for bad in ["", "-a", "a-", "A", "web_1", "a b", String(repeating: "a", count: 65), "a\u{1B}[2J", ".a", "é"] {
            #expect(!FleetHostName.isValid(bad), "\(bad)")
        }
        let error = #expect(throws: FleetSettingsError.self) { try FleetHostName("evil\u{1B}[2J", source: "--host-name") }
        #expect(error?.message.hasPrefix("--host-name \"evil\\e[2J\" is not a fleet host name") == true, "\(String(describing: error))")
        #expect(FleetHostName.isValid(try FleetHostName.machine().rawValue))
        var table = FleetSettingsTable()
        table.hostName = try FleetHostName("from-settings")
        #expect(try FleetHostName.resolve(flag: "from-flag", settings: table).rawValue == "from-flag")
        #expect(try FleetHostName.resolve(flag: nil, settings: table).rawValue == "from-settings")
        #expect(try FleetHostName.resolve(flag: nil) == FleetHostName.machine())
        #expect(throws: FleetSettingsError.self) { try FleetHostName.resolve(flag: "Bad_Name") }
    }
}

/// A directory removed when the test ends, for secret files.
final class TemporaryDirectory {
    let path: String
    private var count = 0

    init() throws {
        path = NSTemporaryDirectory() + "fleet-settings-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    /// A file holding `text` with `mode`.
    func secret(_ text: String, mode: Int = 0o600) throws -> String {
        count += 1
        let file = "\(path)/secret-\(count)"
        guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw CocoaError(.fileWriteUnknown) }
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
