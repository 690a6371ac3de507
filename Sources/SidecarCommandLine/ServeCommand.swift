import ArgumentParser
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

import Logging
import Queue
import ServiceLifecycle
import Sidecar
import SystemPackage

/// `bottle-supervise serve`: the MCP sidecar in the bottle's network.
public struct Serve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
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

    @Option(
        help: ArgumentHelp(
            "The bottle's slug: \(BottleSlug.argumentRule) (default: $SUPERVISE_BOTTLE_SLUG; required).",
            valueName: "slug"))
    var slug: BottleSlug?

    @Option(
        name: .customLong("queue-dir"),
        help: """
            The bottle's queue directory; it must exist and be writable (default: $SUPERVISE_QUEUE_DIR, then \
            /run/supervise/queue where it exists, as in the container image).
            """)
    var queueDirectory: String?

    // Numbers are read .unconditional: `--hold-limit -5` is a bad number (reported as such), not a missing value.
    @Option(
        parsing: .unconditional, help: "TCP port; 0 picks a free one and prints it (default: $SUPERVISE_PORT, then 9100).")
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

    @Option(parsing: .unconditional, help: "Seconds between keep-alives on a held call's stream (default: $SUPERVISE_KEEPALIVE, then 15).")
    var keepalive: Double?

    @Option(
        name: .customLong("expire-after"), parsing: .unconditional,
        help: """
            Seconds a proposal may wait for a decision; then it expires, which the agent reads as a refusal \
            (default: $SUPERVISE_EXPIRE_AFTER, then never).
            """)
    var expireAfter: Double?

    @Option(
        name: .customLong("hold-limit"), parsing: .unconditional,
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

    /// The sidecar's settings: each flag, else its variable, else its default.
    struct Settings {
        var bottle: BottleSlug
        var queueDirectory: FilePath
        var currentConfig: FilePath
        var port: Int
        var host: String
        var allowedHosts: [String]
        var keepalive: Double
        var expireAfter: Double?
        var holdLimit: Double
        var debug: Bool
    }

    /// Resolves and checks every setting before anything starts.
    /// - Throws: `ValidationError` naming the flag or variable and what a valid value looks like.
    func settings(environment: EnvironmentFallback = EnvironmentFallback()) throws -> Settings {
        guard
            let bottle = try environment.value(
                slug, "SUPERVISE_BOTTLE_SLUG", default: nil, expected: "a slug (\(BottleSlug.argumentRule))")
        else {
            throw ValidationError("the bottle's slug is required: pass --slug or set SUPERVISE_BOTTLE_SLUG")
        }
        let port = try environment.value(port, "SUPERVISE_PORT", default: 9100, expected: "a port number")!
        guard (0...65535).contains(port) else {
            throw ValidationError("\(self.port == nil ? "$SUPERVISE_PORT" : "--port") must be 0…65535, not \(port)")
        }
        let keepalive = try Self.seconds(
            environment.value(keepalive, "SUPERVISE_KEEPALIVE", default: 15, expected: "a number of seconds")!,
            self.keepalive == nil ? "$SUPERVISE_KEEPALIVE" : "--keepalive", rule: "a positive number of seconds")
        let expireAfter = try environment.value(
            expireAfter, "SUPERVISE_EXPIRE_AFTER", default: nil, expected: "a number of seconds"
        ).map {
            try Self.seconds(
                $0, self.expireAfter == nil ? "$SUPERVISE_EXPIRE_AFTER" : "--expire-after",
                rule: "a positive number of seconds")
        }
        let holdLimit = try Self.seconds(
            environment.value(holdLimit, "SUPERVISE_HOLD_LIMIT", default: 50, expected: "a number of seconds")!,
            self.holdLimit == nil ? "$SUPERVISE_HOLD_LIMIT" : "--hold-limit",
            rule: "0 (hold until decided) or a positive number of seconds", zeroAllowed: true)
        let host = try ListenAddress.resolve(bind, variable: "SUPERVISE_BIND", flag: "--bind", environment: environment)
        // Which directory: a usage question (none given, and no container default here: exit 2).
        // Whether it is usable is checked in run(), as an I/O failure (exit 1).
        let queueDirectory: FilePath
        do throws(QueueDirectoryCheck.Problem) {
            queueDirectory = try QueueDirectoryCheck.resolve(
                given: self.queueDirectory ?? environment.text("SUPERVISE_QUEUE_DIR"))
        } catch {
            throw ValidationError(error.description)
        }
        return Settings(
            bottle: bottle,
            queueDirectory: queueDirectory,
            currentConfig: FilePath(
                environment.value(
                    currentConfig, "SUPERVISE_CURRENT_CONFIG", default: "/etc/claude-bottle/current-config")),
            port: port, host: host,
            allowedHosts: try Self.allowedHosts(
                allowedHosts, environment: environment.environment, bottle: bottle),
            keepalive: keepalive, expireAfter: expireAfter, holdLimit: holdLimit,
            debug: environment.isOn(debug, "SUPERVISE_DEBUG"))
    }

    /// The longest any of serve's durations may be: a year. A longer one is a
    /// typo (`1e30`), and past about 292,000 years the millisecond `Duration`
    /// the sidecar keeps would overflow: a crash at start instead of an answer.
    static let longestSeconds: Double = 366 * 24 * 3600

    /// `value` checked as a number of seconds for `name` (the flag, or the
    /// variable it came from): finite, positive (or 0 when `zeroAllowed`), at
    /// most ``longestSeconds``.
    /// - Throws: `ValidationError` naming where the value came from and `rule`.
    static func seconds(_ value: Double, _ name: String, rule: String, zeroAllowed: Bool = false) throws -> Double {
        guard value.isFinite, value > 0 || (zeroAllowed && value == 0), value <= longestSeconds else {
            throw ValidationError(
                "\(name) must be \(rule), at most \(Int(longestSeconds)) (a year), not \(value)")
        }
        return value
    }

    public init() {}

    public func validate() throws { _ = try settings() }

    public func run() async throws {
        let settings = try settings()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.debug ? .debug : .info
            return handler
        }
        let logger = Logger(label: "bottle-supervise")
        let (bottle, queueDirectory, host, keepalive, holdLimit) = (
            settings.bottle, settings.queueDirectory, settings.host, settings.keepalive, settings.holdLimit
        )
        do throws(QueueDirectoryCheck.Problem) {
            try QueueDirectoryCheck.check(queueDirectory)
        } catch {
            throw Failure.failed(error.description)
        }
        try requireCurrentConfig(settings.currentConfig)

        OpenFileLimit.raiseToHardLimit()
        let configuration = SidecarConfiguration(
            bottle: bottle, queueDirectory: queueDirectory, currentConfigDirectory: settings.currentConfig,
            keepaliveInterval: .milliseconds(Int64(keepalive * 1000)),
            expireAfter: settings.expireAfter.map { .milliseconds(Int64($0 * 1000)) },
            holdLimit: holdLimit == 0 ? nil : .milliseconds(Int64(holdLimit * 1000)))
        let holder: CallHolder
        do {
            holder = try CallHolder(configuration: configuration, metrics: SidecarMetrics(), logger: logger)
        } catch {
            throw Failure.failed("cannot open the queue: \(error.description)")
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
            dispatcher: dispatcher, keepalive: configuration.keepaliveInterval, host: host, port: settings.port,
            allowedHosts: settings.allowedHosts,
            logger: logger
        ) { bound in
            StandardError.write("\(Failure.program): listening on http://\(display):\(bound)/mcp\n")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: SidecarShutdown(holder: holder))]
                    + (expiry.map { [.init(service: $0)] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            let portFlag = self.port == nil ? "--port (or $SUPERVISE_PORT)" : "--port"
            if let message = ListenFailure.message(for: error, host: host, port: settings.port, portFlag: portFlag) {
                throw Failure.failed(message)
            }
            throw error
        }
    }

    /// Fails (1) unless the current-config directory is a directory this process can list: without it
    /// every file reads as absent, so each proposal's hash and no-op check would be wrong, silently.
    private func requireCurrentConfig(_ path: FilePath) throws(Failure) {
        let origin =
            currentConfig != nil
            ? "--current-config"
            : EnvironmentFallback().text("SUPERVISE_CURRENT_CONFIG") != nil
                ? "from $SUPERVISE_CURRENT_CONFIG" : "the default; pass --current-config or set SUPERVISE_CURRENT_CONFIG"
        var info = stat()
        guard stat(path.string, &info) == 0 else {
            throw .failed(
                "the current config directory \(path) does not exist (\(origin)); mount the bottle's config "
                    + "directory there read-only (docs/deployment.md)")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .failed("the current config directory \(path) is not a directory (\(origin))")
        }
        guard access(path.string, R_OK | X_OK) == 0 else {
            throw .failed(
                "the current config directory \(path) cannot be read by this sidecar (uid \(getuid())) (\(origin)); "
                    + "make it readable for that user")
        }
    }

    /// The names requests may address the sidecar by: `--allowed-host`
    /// values (else `SUPERVISE_ALLOWED_HOSTS`), plus the container name the
    /// image runs under, `<slug>-supervise`.
    /// - Parameter bottle: nil for `web`, which has no container name of its own.
    public static func allowedHosts(_ flags: [String], environment: [String: String], bottle: BottleSlug?) throws
        -> [String]
    {
        let source = flags.isEmpty ? "SUPERVISE_ALLOWED_HOSTS" : "--allowed-host"
        let given =
            flags.isEmpty
            ? (environment["SUPERVISE_ALLOWED_HOSTS"] ?? "").split(separator: ",").map(String.init) : flags
        var hosts = bottle.map { ["\($0)-supervise"] } ?? []
        for entry in given {
            let name = entry.trimmed()
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
