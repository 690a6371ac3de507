import Apply
import ArgumentParser
import Console
import Foundation
import Logging
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

    @Option(help: "Address to listen on (default 127.0.0.1; 0.0.0.0 only behind --tls-cert and a firewall).")
    var bind = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (the login URL shows it).")
    var port = 9200

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

    @Option(help: "The host settings file whose [notify] table the page also serves (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    func validate() throws {
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // approvals are applied into it
        await locations.endOverdueGrants(command: "web", engine: apply.containerEngine)
        var configuration = WebConsoleConfiguration(
            tokenFile: tokenFile.map { FilePath($0) }
                ?? FilePath(FileManager.default.homeDirectoryForCurrentUser.path).appending(".claude-bottle/web-token"),
            queueRoot: locations.queueRoot, configRoot: locations.configRoot)
        configuration.engine = apply.containerEngine
        configuration.bind = bind
        configuration.port = port
        configuration.allowedHosts = allowedHosts
        configuration.tlsCertificate = tlsCertificate.map { FilePath($0) }
        configuration.tlsKey = tlsKey.map { FilePath($0) }
        do {
            configuration.notifications = try NotifySettings.load(
                from: settings.map { FilePath($0) } ?? NotifySettings.defaultPath())
        } catch {
            throw Failure.failed(error.description)
        }
        var logger = Logger(label: "bottle-supervise.web")
        logger.logLevel = .warning
        // While the page is served, grants end on time here too (as `watch` ends them).
        let expiry = Task {
            try await GrantExpiryService(
                applier: Applier(
                    configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: apply.containerEngine,
                    logger: logger),
                actor: "\(OperatorName.current) (web)", logger: logger
            ).run()
        }
        defer { expiry.cancel() }
        do {
            try await WebConsole(configuration: configuration).run(logger: logger) { url in
                // Unbuffered: a script waiting for the URL must see it now.
                FileHandle.standardOutput.write(Data("bottle-supervise web: log in at \(url)  (this link works once)\n".utf8))
            }
        } catch let error as WebConsoleError {
            throw Failure.failed(error.description)
        }
    }
}
