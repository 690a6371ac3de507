import ArgumentParser
import Foundation
import Logging
import Queue
import ServiceLifecycle
import Sidecar
import SystemPackage

/// `bottle-supervise serve`: the MCP sidecar in the bottle's network.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the MCP sidecar: agents ask for config changes, the operator decides.",
        discussion: """
            Serves MCP over Streamable HTTP at POST /mcp (and POST / for clients configured for the seed), \
            with GET /health and GET /metrics; --stdio speaks MCP over stdin/stdout instead. A tool call is \
            validated, written to the bottle's queue and held until the operator decides; keep-alives keep the \
            call open for hours. Each flag defaults to its environment variable, then to the container's value.

            Examples:
              SUPERVISE_BOTTLE_SLUG=web bottle-supervise serve
              bottle-supervise serve --slug web --queue-dir /tmp/q --port 0
              bottle-supervise serve --slug web --queue-dir /tmp/q --stdio
            """
    )

    @Option(help: "The bottle's slug (default: $SUPERVISE_BOTTLE_SLUG; required).")
    var slug: String?

    @Option(
        name: .customLong("queue-dir"),
        help: """
            The bottle's queue directory; it must exist and be writable (default: $SUPERVISE_QUEUE_DIR, then \
            /run/supervise/queue where it exists, as in the container image).
            """)
    var queueDirectory: String?

    @Option(help: "TCP port; 0 picks a free one and prints it (default: $SUPERVISE_PORT, then 9100).")
    var port: Int?

    @Option(help: "Address to listen on (default: $SUPERVISE_BIND, then 127.0.0.1; the container image sets 0.0.0.0).")
    var bind: String?

    @Option(
        name: .customLong("allowed-host"),
        help: ArgumentHelp(
            "A name agents address the sidecar by (repeatable; default: $SUPERVISE_ALLOWED_HOSTS, comma-separated).",
            discussion: """
                Requests whose Host (or Origin) names anything else are refused (421, 403): the defence \
                against DNS rebinding. Loopback names, IP addresses, the --bind address and <slug>-supervise \
                (the container's name) are always allowed.
                """))
    var allowedHosts: [String] = []

    @Option(
        name: .customLong("current-config"),
        help: """
            The bottle's current config, read for hashes and no-op detection \
            (default: $SUPERVISE_CURRENT_CONFIG, then /etc/claude-bottle/current-config).
            """)
    var currentConfig: String?

    @Option(help: "Seconds between keep-alives on a held call's stream (default: $SUPERVISE_KEEPALIVE, then 15).")
    var keepalive: Double?

    @Option(
        name: .customLong("expire-after"),
        help: "Seconds a proposal may wait for a decision; then it expires, which the agent reads as a refusal.")
    var expireAfter: Double?

    @Option(
        name: .customLong("hold-limit"),
        help: """
            Seconds a tool call is held before it answers 'pending' with the proposal id, for the \
            proposal-status tool; 0 holds until decided (default: $SUPERVISE_HOLD_LIMIT, then 50, under the \
            common 60 s client timeout).
            """)
    var holdLimit: Double?

    @Flag(help: "Speak MCP over stdin/stdout instead of HTTP (logs stay on stderr).")
    var stdio = false

    @Flag(help: "Log every request (default: $SUPERVISE_DEBUG set).")
    var debug = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let debugging = debug || !(environment["SUPERVISE_DEBUG"] ?? "").isEmpty
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = debugging ? .debug : .info
            return handler
        }
        let logger = Logger(label: "bottle-supervise")
        guard let slugText = slug ?? environment["SUPERVISE_BOTTLE_SLUG"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw ValidationError("the bottle's slug is required: pass --slug or set SUPERVISE_BOTTLE_SLUG")
        }
        let bottle: BottleSlug
        do { bottle = try BottleSlug(slugText) } catch { throw ValidationError(error.description) }
        let keepalive =
            try keepalive ?? environment["SUPERVISE_KEEPALIVE"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
                guard let value = Double(text) else {
                    throw ValidationError("SUPERVISE_KEEPALIVE is not a number: \(text)")
                }
                return value
            } ?? 15
        guard keepalive > 0 else { throw ValidationError("--keepalive must be a positive number of seconds") }
        if let expireAfter, !(expireAfter > 0) {
            throw ValidationError("--expire-after must be a positive number of seconds")
        }
        let holdLimit =
            try holdLimit ?? environment["SUPERVISE_HOLD_LIMIT"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
                guard let value = Double(text) else {
                    throw ValidationError("SUPERVISE_HOLD_LIMIT is not a number of seconds: \(text)")
                }
                return value
            } ?? 50
        guard holdLimit >= 0, holdLimit.isFinite else {
            throw ValidationError("--hold-limit must be 0 (hold until decided) or a positive number of seconds")
        }
        let currentConfig =
            currentConfig ?? environment["SUPERVISE_CURRENT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/etc/claude-bottle/current-config"
        let portNumber =
            try port ?? environment["SUPERVISE_PORT"].map { text in
                guard let value = Int(text) else {
                    throw ValidationError("SUPERVISE_PORT is not a port number: \(text)")
                }
                return value
            } ?? 9100
        guard (0...65535).contains(portNumber) else { throw ValidationError("port must be 0…65535") }
        let host = bind ?? environment["SUPERVISE_BIND"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let queueDirectory: FilePath
        do throws(QueueDirectoryCheck.Problem) {
            queueDirectory = try QueueDirectoryCheck.resolve(given: self.queueDirectory ?? environment["SUPERVISE_QUEUE_DIR"])
            try QueueDirectoryCheck.check(queueDirectory)
        } catch {
            if error.isUsageError { throw ValidationError(error.description) }
            throw Failure.exit(.failed(error.description), command: "serve")
        }

        OpenFileLimit.raiseToHardLimit()
        let configuration = SidecarConfiguration(
            bottle: bottle, queueDirectory: queueDirectory, currentConfigDirectory: FilePath(currentConfig),
            keepaliveInterval: .milliseconds(Int64(keepalive * 1000)),
            expireAfter: expireAfter.map { .milliseconds(Int64($0 * 1000)) },
            holdLimit: holdLimit == 0 ? nil : .milliseconds(Int64(holdLimit * 1000)))
        let holder: CallHolder
        do {
            holder = try CallHolder(configuration: configuration, metrics: SidecarMetrics(), logger: logger)
        } catch {
            throw ValidationError("cannot open the queue: \(error.description)")
        }
        let dispatcher = Dispatcher(holder: holder)

        let expiry = configuration.expireAfter.map { _ in ProposalExpiry(queue: holder.queue, logger: logger) }
        if stdio {
            logger.info("serving MCP on stdin/stdout", metadata: ["bottle": "\(bottle)", "queue": "\(queueDirectory)"])
            let sweeping = expiry.map { expiry in Task { try await expiry.run() } }
            await StdioServer(dispatcher: dispatcher, keepalive: configuration.keepaliveInterval).run()
            sweeping?.cancel()
            return
        }
        let display = host.contains(":") ? "[\(host)]" : host
        let app = SidecarHTTPServer(
            dispatcher: dispatcher, keepalive: configuration.keepaliveInterval, host: host, port: portNumber,
            allowedHosts: try Self.allowedHosts(allowedHosts, environment: environment, bottle: bottle),
            logger: logger
        ) { bound in
            FileHandle.standardError.write(Data("bottle-supervise: listening on http://\(display):\(bound)/mcp\n".utf8))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: SidecarShutdown(holder: holder))]
                    + (expiry.map { [.init(service: $0)] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// The names requests may address the sidecar by: `--allowed-host`
    /// values (else `SUPERVISE_ALLOWED_HOSTS`), plus the container name the
    /// image runs under, `<slug>-supervise`.
    static func allowedHosts(_ flags: [String], environment: [String: String], bottle: BottleSlug) throws
        -> [String]
    {
        let source = flags.isEmpty ? "SUPERVISE_ALLOWED_HOSTS" : "--allowed-host"
        let given =
            flags.isEmpty
            ? (environment["SUPERVISE_ALLOWED_HOSTS"] ?? "").split(separator: ",").map(String.init) : flags
        var hosts = ["\(bottle)-supervise"]
        for entry in given {
            let name = entry.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:[]".contains($0)) }) else {
                throw ValidationError(
                    "\(source): \"\(name)\" is not a host name; give names such as web-supervise or 10.0.0.5, "
                        + "without a scheme or path")
            }
            hosts.append(name)
        }
        return hosts
    }
}
