import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Logging
import Queue
import ServiceLifecycle
import SidecarCommandLine
import SystemPackage
import WebConsole

/// `bottle-supervise web`: the operator's console as a web page.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve the operator's console as a web page on this host (log in with the URL it prints).",
        discussion: """
            Lists every pending proposal of every bottle, live, and lets you approve, modify or reject each \
            from a browser or a phone, through the same apply step as the CLI. Listens on 127.0.0.1 unless \
            --bind says otherwise; never run it in a bottle's network. At start it prints a one-time login \
            URL; after that, log in with the access token in --token-file (created 0600 on first start). \
            docs/web-console.md describes it and its defences.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @Option(
        help: """
            Address to listen on; any but loopback needs --tls-cert and --tls-key (or --insecure-http), \
            and a firewall.
            """)
    var bind = ListenAddress.loopback

    @Option(parsing: .unconditional, help: "Port to listen on; 0 picks a free one (the login URL shows it).")
    var port = 9200

    @Flag(
        name: .customLong("insecure-http"),
        help: "Serve plain HTTP on a --bind other than loopback: the access token and every decision cross the network readable.")
    var insecureHTTP = false

    @Option(
        name: .customLong("allowed-host"), parsing: .singleValue,
        help: "A host name the page may be reached by besides loopback and --bind (repeatable).")
    var allowedHosts: [String] = []

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (with --tls-key).")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("token-file"), help: "The access token file (default ~/.claude-bottle/web-token).")
    var tokenFile: String?

    @Option(help: "The host settings file: [notify] the page also serves, [[policy.rule]] and [answers] its standing rules and preset answers (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    @OptionGroup var database: FleetDatabaseOptions

    func validate() throws {
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        _ = try Serve.allowedHosts(allowedHosts, environment: [:], bottle: nil)
        if let tokenFile {
            let parent = (tokenFile as NSString).deletingLastPathComponent
            var info = stat()
            guard stat(parent.isEmpty ? "." : parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw ValidationError(
                    "--token-file \(Escaped(tokenFile)): the directory \(Escaped(parent)) does not exist; "
                        + "give a path in an existing directory")
            }
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, not \(port)") }
        if !bind.isLoopback, tlsCertificate == nil, !insecureHTTP {
            throw ValidationError(
                "--bind \(bind.text) is reachable from other machines: give --tls-cert and --tls-key, "
                    + "or --insecure-http to serve the token and decisions over plain HTTP anyway")
        }
    }

    func run() async throws {
        let settingsPath = HostSettingsPath(flag: settings)
        try settingsPath.requireNamedFile()
        if let tlsCertificate, let tlsKey {
            try Self.requirePEM(tlsCertificate, flag: "--tls-cert", holding: "CERTIFICATE")
            try Self.requirePEM(tlsKey, flag: "--tls-key", holding: "PRIVATE KEY")
        }
        let (fleetDatabase, _) = try database.resolve(settingsFile: settingsPath.path, otherKeys: FleetWebSettings.keys)
        if let fleetDatabase {
            try await runFleet(fleetDatabase, settingsPath: settingsPath)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // approvals are applied into it
        await locations.endOverdueGrants(command: "web", engine: apply.containerEngine)
        var configuration = baseConfiguration()
        configuration.engine = apply.containerEngine
        configuration.policy = PolicySource(settings: settingsPath.path)
        do {
            configuration.notifications = try NotifySettings.load(from: settingsPath.path)
        } catch {
            throw Failure.failed(error.description)
        }
        var logger = Logger(label: "bottle-supervise.web")
        logger.logLevel = .warning
        // While the page is served, grants end on time here too (as `watch` ends them); in the
        // server's service group, so a SIGTERM lets an end in progress finish its reload.
        let expiry = GrantExpiryService(
            applier: Applier(
                configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: apply.containerEngine,
                logger: logger),
            actor: "\(OperatorName.current) (web)", logger: logger)
        try await serve(configuration, logger: logger, services: [expiry])
    }

    /// The configuration every mode shares: where to listen, TLS, the token file.
    private func baseConfiguration() -> WebConsoleConfiguration {
        var configuration = WebConsoleConfiguration(
            tokenFile: tokenFile.map { FilePath($0) }
                ?? FilePath(FileManager.default.homeDirectoryForCurrentUser.path).appending(".claude-bottle/web-token"),
            queueRoot: locations.queueRoot, configRoot: locations.configRoot)
        configuration.bind = bind.text
        configuration.port = port
        configuration.allowedHosts = allowedHosts
        configuration.tlsCertificate = tlsCertificate.map { FilePath($0) }
        configuration.tlsKey = tlsKey.map { FilePath($0) }
        return configuration
    }

    /// `web --database`: the fleet's page. No host queue is read or written
    /// here: the page reads the database, and a decision is a claim there
    /// that the owning host's relay applies (its own rules, notifications and
    /// grant expiry run where `watch` runs).
    private func runFleet(_ fleetDatabase: FleetDatabaseSettings, settingsPath: HostSettingsPath) async throws {
        let threshold: ApprovalThreshold
        do {
            // Said on the page as this console's own setting (the page's operators need no path of this machine).
            threshold = ApprovalThreshold(
                critical: try FleetWebSettings.threshold(from: settingsPath.path).critical, origin: "of this console")
        } catch {
            throw Failure.failed(error.description)
        }
        let base = baseConfiguration()
        var logger = Logger(label: "bottle-supervise.web")
        logger.logLevel = .warning
        do {
            try await FleetStore.withStore(settings: fleetDatabase, logger: logger) { store in
                try await store.migrator.migrate()
                let client = store.client
                var configuration = base
                configuration.fleet = FleetWeb(
                    store: store,
                    operators: OperatorStore(client: client, logger: logger),
                    approvals: FleetApprovals(client: client, logger: logger), threshold: threshold)
                try await serve(configuration, logger: logger, services: [])
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as FleetStoreError {
            throw Failure.failed("\(fleetDatabase.redactedURL): \(error.description)")
        } catch let error as FleetSettingsError {
            throw Failure.failed(error.description)
        }
    }

    /// Serves the page until SIGTERM or SIGINT, with `services` (grant expiry on a host's own page)
    /// in the server's service group, so a SIGTERM lets an end in progress finish its reload.
    private func serve(_ configuration: WebConsoleConfiguration, logger: Logger, services: [any Service]) async throws {
        do {
            try await WebConsole(configuration: configuration).run(logger: logger, services: services) { url in
                // Unbuffered: a script waiting for the URL must see it now.
                FileHandle.standardOutput.write(Data("bottle-supervise web: log in at \(url)  (this link works once)\n".utf8))
            }
        } catch let error as WebConsoleError {
            throw Failure.failed(error.description)
        } catch {
            if let message = ListenFailure.message(for: error, host: bind.text, port: port, portFlag: "--port") {
                throw Failure.failed(message)
            }
            throw error
        }
    }

    /// Fails (1) unless `path` is a readable regular file with a PEM block of `kind` (`CERTIFICATE`,
    /// `PRIVATE KEY`, which also matches `RSA PRIVATE KEY` and `EC PRIVATE KEY`): said with the flag
    /// and the path before the server starts, not as the TLS library's `failedToLoadCertificate`.
    static func requirePEM(_ path: String, flag: String, holding kind: String) throws(Failure) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .failed("\(flag) \(Escaped(path)): \(String(cString: strerror(errno))); give the PEM file's path")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 1 << 20 else {
            throw .failed("\(flag) \(Escaped(path)) is not a PEM file (not a regular file of at most 1 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failed("\(flag) \(Escaped(path)) cannot be read (permissions?): run the command as a user who may read it")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("-----BEGIN "), text.contains("\(kind)-----") else {
            throw .failed(
                "\(flag) \(Escaped(path)) holds no PEM \(kind.lowercased()) (a '-----BEGIN …\(kind)-----' block); "
                    + "give the PEM-encoded \(flag == "--tls-cert" ? "certificate chain" : "private key")")
        }
    }
}
