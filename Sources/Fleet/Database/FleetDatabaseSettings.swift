import Console
import Foundation
import PostgresNIO
import Queue

/// Where the fleet's PostgreSQL database is, and how to reach it safely.
///
/// Sources, the first given wins: `--database URL`, `$SUPERVISE_DATABASE_URL`,
/// `[fleet] database = "…"` in the host settings file. The URL is libpq's:
/// `postgres://ROLE@HOST:PORT/DBNAME?sslmode=…&sslrootcert=…` (or
/// `postgresql://`; `?host=/run/postgresql` for a Unix socket directory).
///
/// Why the password is kept off the URL: a command line is readable by
/// every user of the machine (`/proc/PID/cmdline`, `ps`), and a settings file
/// tends to be copied and committed. So a password in a `--database` or
/// `[fleet] database` URL is refused; it comes from
/// `--database-password-file` or `[fleet] password_file` (a file only its
/// owner can read, not a link: ``SecretSource``), or `$PGPASSWORD`, or — the
/// environment being private to the process — the `$SUPERVISE_DATABASE_URL`
/// itself.
///
/// Why TLS defaults to `verify-full`: a relay sends the bottles' proposals and
/// receives decisions that change what an agent may reach; a connection that
/// can be intercepted could forge either. Only a loopback address or a Unix
/// socket, where no network is crossed, defaults to no TLS.
public struct FleetDatabaseSettings: Sendable, Equatable {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// No TLS: only sensible on loopback or a Unix socket.
        case disable
        /// TLS, the server's certificate not verified (encryption against a
        /// passive eavesdropper only).
        case require
        /// TLS, the certificate verified against the trusted roots
        /// (`sslrootcert`, else the system's) and the host name checked.
        case verifyFull = "verify-full"
    }

    /// Where the server listens.
    public enum Endpoint: Sendable, Equatable {
        /// A TCP host (a name or an address) and port.
        case tcp(host: String, port: Int)
        /// The directory of the server's Unix socket and the port naming the socket file.
        case unixSocket(directory: String, port: Int)
    }

    /// The server.
    public var endpoint: Endpoint
    /// The role to connect as.
    public var role: String
    /// The database.
    public var database: String
    /// How the connection is protected.
    public var tls: TLSMode
    /// A PEM file of the certificate authorities to trust (`sslrootcert`);
    /// `nil`: the system's roots.
    public var rootCertificatePath: String?
    /// The password, from a file or the environment; `nil`: none (trust or
    /// peer authentication). Never printed: ``redactedURL`` leaves it out.
    public var password: String?
    /// Where the URL came from, for messages (`--database`, …).
    public var source: String

    /// The URL's schemes.
    public static let schemes = ["postgres", "postgresql"]
    /// The environment variable holding the URL.
    public static let urlVariable = "SUPERVISE_DATABASE_URL"
    /// The environment variable holding the password (libpq's).
    public static let passwordVariable = "PGPASSWORD"
    /// The keys this type reads from the settings file's `[fleet]` table.
    public static let settingsKeys: Set<String> = ["database", "password_file", "host_name"]

    /// The settings from every source, or `nil` when none names a database
    /// (then nothing about the fleet runs: the host works on its files alone).
    ///
    /// - Parameters:
    ///   - flag: `--database`.
    ///   - passwordFileFlag: `--database-password-file`.
    ///   - settings: the `[fleet]` table of the host settings file, read by ``FleetSettingsTable``.
    ///   - environment: the process environment.
    public static func resolve(
        flag: String?, passwordFileFlag: String?, settings: FleetSettingsTable = FleetSettingsTable(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(FleetSettingsError) -> FleetDatabaseSettings? {
        let url: String
        let source: String
        if let flag {
            (url, source) = (flag, "--database")
        } else if let variable = environment[urlVariable], !variable.isEmpty {
            (url, source) = (variable, "$\(urlVariable)")
        } else if let configured = settings.database {
            (url, source) = (configured, settings.origin("database"))
        } else {
            if passwordFileFlag != nil {
                throw .invalid(
                    "--database-password-file was given but no database: add --database URL, $\(urlVariable) or [fleet] database")
            }
            return nil
        }
        var parsed = try parse(url, source: source, passwordAllowed: source == "$\(urlVariable)")
        if let passwordFileFlag {
            parsed.password = try readPasswordFile(passwordFileFlag, source: "--database-password-file", environment: environment)
        } else if parsed.password != nil {
            // From $SUPERVISE_DATABASE_URL: the environment is as private as $PGPASSWORD.
        } else if let variable = environment[passwordVariable], !variable.isEmpty {
            parsed.password = variable
        } else if let path = settings.passwordFile {
            parsed.password = try readPasswordFile(path, source: settings.origin("password_file"), environment: environment)
        }
        return parsed
    }

    /// Parses a database URL given by `source`; the password, when the URL
    /// carries one and `passwordAllowed`, is kept, otherwise refused.
    public static func parse(_ url: String, source: String, passwordAllowed: Bool = false) throws(FleetSettingsError)
        -> FleetDatabaseSettings
    {
        func refuse(_ why: String) -> FleetSettingsError {
            .invalid("\(source) \(FleetHostName.quoted(redacting(url))) \(why)")
        }
        let example = "postgres://ROLE@HOST:PORT/DBNAME?sslmode=verify-full"
        guard let schemeEnd = url.range(of: "://"), schemes.contains(String(url[..<schemeEnd.lowerBound]).lowercased()) else {
            throw refuse("is not a PostgreSQL URL: write \(example) (or postgresql://…)")
        }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if rest.contains("#") { throw refuse("has a fragment (#…); remove it") }
        let authority: Substring
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
        }
        var userInfo: Substring?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        guard let userInfo, !userInfo.isEmpty else {
            throw refuse("names no role: write \(example)")
        }
        var password: String?
        let roleText: Substring
        if let colon = userInfo.firstIndex(of: ":") {
            roleText = userInfo[..<colon]
            guard passwordAllowed else {
                throw .invalid(
                    "\(source) carries a password; a password on a command line or in the settings file can be read by "
                        + "others: remove it from the URL and give it in $\(passwordVariable), in a file of mode 0600 named by "
                        + "--database-password-file or [fleet] password_file")
            }
            guard let decoded = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncoding else {
                throw .invalid("\(source) has a password that is not valid percent-encoding")
            }
            password = decoded
        } else {
            roleText = userInfo
        }
        guard let role = String(roleText).removingPercentEncoding, !role.isEmpty else {
            throw refuse("has a role that is empty or not valid percent-encoding")
        }
        guard role.utf8.count <= 63, !role.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw refuse("has a role longer than PostgreSQL's 63 bytes or with control characters")
        }
        guard let database = String(path).removingPercentEncoding else {
            throw refuse("has a database name that is not valid percent-encoding")
        }
        guard !database.contains("/"), database.utf8.count <= 63,
            !database.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw refuse("has a database name with '/', control characters or more than 63 bytes")
        }

        var host = ""
        var port = 5432
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw refuse("has an unclosed [ in its host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse("has text after the ] of its host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw refuse("has port \(FleetHostName.quoted(String(portText))); give a number from 1 to 65535")
            }
            port = number
        }
        host = host.removingPercentEncoding ?? host

        var tls: TLSMode?
        var rootCertificate: String?
        var socketDirectory: String?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? "") : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw refuse(
                        "has sslmode=\(Escaped(value)); use disable, require or verify-full (allow, prefer and verify-ca are "
                            + "not offered: they connect without checking who answers)")
                }
                tls = mode
            case "sslrootcert":
                guard value.hasPrefix("/") else { throw refuse("has sslrootcert=\(Escaped(value)); give an absolute path") }
                rootCertificate = value
            case "host":
                guard value.hasPrefix("/") else {
                    throw refuse("has host=\(Escaped(value)); the host parameter names a Unix socket directory (an absolute path)")
                }
                socketDirectory = value
            default:
                throw refuse("has the parameter \(Escaped(key)); the parameters understood are sslmode, sslrootcert and host")
            }
        }

        let endpoint: Endpoint
        if let socketDirectory {
            guard host.isEmpty else { throw refuse("names both a host and ?host=\(socketDirectory); give one") }
            endpoint = .unixSocket(directory: socketDirectory, port: port)
        } else {
            guard !host.isEmpty else {
                throw refuse("names no host: write \(example), or ?host=/run/postgresql for a Unix socket")
            }
            endpoint = .tcp(host: host, port: port)
        }
        let isLocal: Bool
        switch endpoint {
        case .unixSocket: isLocal = true
        case .tcp(let host, _): isLocal = isLoopback(host)
        }
        let mode = tls ?? (isLocal ? .disable : .verifyFull)
        if case .unixSocket = endpoint, mode != .disable {
            throw refuse("asks for sslmode=\(mode.rawValue) on a Unix socket, which has no TLS; leave sslmode out")
        }
        if rootCertificate != nil, mode != .verifyFull {
            throw refuse("gives sslrootcert without sslmode=verify-full; the certificate authorities are only used to verify")
        }
        return FleetDatabaseSettings(
            endpoint: endpoint, role: role, database: database.isEmpty ? role : database, tls: mode,
            rootCertificatePath: rootCertificate, password: password, source: source)
    }

    /// What the operator should hear before the first connection, or `nil`:
    /// `sslmode=require` across a network encrypts without checking whose
    /// certificate it is (libpq's meaning too), so whoever sits on the path can
    /// pose as the database — read every proposal, and forge the decisions a
    /// relay applies. Allowed (a private network may have no authority yet),
    /// never silent.
    public var warning: String? {
        guard tls == .require, case .tcp(let host, _) = endpoint, !Self.isLoopback(host) else { return nil }
        return "\(source) has sslmode=require: the connection to \(Escaped(host)) is encrypted but the server's "
            + "certificate is not checked, so anyone on the path can pose as the fleet database and forge decisions; "
            + "use sslmode=verify-full (with sslrootcert=PATH for a private certificate authority)"
    }

    /// Whether `host` is a loopback name or address (no network is crossed).
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The URL for messages and logs: the password, if any, replaced by `***`.
    public var redactedURL: String {
        var text = "postgres://\(role.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? role)"
        if password != nil { text += ":***" }
        text += "@"
        var parameters = ["sslmode=\(tls.rawValue)"]
        switch endpoint {
        case .tcp(let host, let port):
            text += host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let directory, let port):
            text += ":\(port)"
            parameters.insert("host=\(directory)", at: 0)
        }
        text += "/\(database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? database)"
        if let rootCertificatePath { parameters.append("sslrootcert=\(rootCertificatePath)") }
        return text + "?" + parameters.joined(separator: "&")
    }

    /// A URL with any password cut out, for a message about a URL that did not parse.
    static func redacting(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        // Up to the *last* `@` of the whole text, not of the authority as a parser would cut it:
        // a password with an unencoded `/` or `?` (base64 has them) makes the URL fail to parse,
        // and the message that says so must not print it.
        guard let at = afterScheme.lastIndex(of: "@"),
            let colon = afterScheme[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// The password in the file at `path`, read like every secret file.
    static func readPasswordFile(_ path: String, source: String, environment: [String: String]) throws(FleetSettingsError)
        -> String
    {
        let expanded = path.hasPrefix("~/") ? FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst(1) : path
        do {
            return try SecretSource.file(expanded).read(environment: environment, kind: "password file")
        } catch {
            throw .invalid("\(source): \(error.message)")
        }
    }

    /// The TLS client settings for ``tls`` (`nil`: TLS disabled).
    /// - Throws: when the root certificate file cannot be read.
    func tlsClientConfiguration() throws(FleetSettingsError) -> TLSConfiguration? {
        switch tls {
        case .disable:
            return nil
        case .require:
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateVerification = .none
            return client
        case .verifyFull:
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateVerification = .fullVerification
            if let rootCertificatePath {
                guard FileManager.default.isReadableFile(atPath: rootCertificatePath) else {
                    throw .invalid("\(source): cannot read sslrootcert \(rootCertificatePath)")
                }
                client.trustRoots = .file(rootCertificatePath)
            }
            return client
        }
    }

    /// postgres-nio's pool configuration for these settings.
    /// - Throws: when the root certificate file cannot be read.
    public func clientConfiguration() throws(FleetSettingsError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .unixSocket(let directory, let port):
            configuration = .init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: role, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS = try tlsClientConfiguration().map { .require($0) } ?? .disable
            configuration = .init(host: host, port: port, username: role, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "bottle-supervise")]
        return configuration
    }

    /// postgres-nio's single-connection configuration (the check before a pool is started).
    /// - Throws: when the root certificate file cannot be read or is not PEM.
    public func connectionConfiguration() throws(FleetSettingsError) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .unixSocket(let directory, let port):
            configuration = .init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: role, password: password, database: database)
        case .tcp(let host, let port):
            var tls = PostgresConnection.Configuration.TLS.disable
            if let client = try tlsClientConfiguration() {
                do {
                    tls = .require(try NIOSSLContext(configuration: client))
                } catch {
                    throw .invalid("\(source): cannot set up TLS (sslrootcert \(rootCertificatePath ?? "the system's roots")): \(error)")
                }
            }
            configuration = .init(host: host, port: port, username: role, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "bottle-supervise")]
        return configuration
    }

    /// Settings built from parts (tests, and callers that already parsed).
    public init(
        endpoint: Endpoint, role: String, database: String, tls: TLSMode, rootCertificatePath: String? = nil,
        password: String? = nil, source: String
    ) {
        self.endpoint = endpoint
        self.role = role
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
        self.password = password
        self.source = source
    }
}

extension FleetDatabaseSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// The redacted URL: a settings value printed or logged never shows the password.
    public var description: String { redactedURL }
    public var debugDescription: String { redactedURL }
}
