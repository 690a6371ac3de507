import Apply
import Console
import Fleet
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Queue
import ServiceLifecycle
import SystemPackage

/// `bottle-supervise web`: the operator's console as a web page, on the host.
///
/// Every pending proposal of every bottle, updating live (server-sent
/// events fed by one inotify watch); a page per proposal with its
/// justification, risk hints, summary, diff and the current file; approve,
/// modify and reject through the same apply step as the CLI and the TUI,
/// bound to the proposal as the page showed it. An admin panel's defences:
/// loopback by default, a one-time login URL and an HttpOnly SameSite=Strict
/// session cookie, CSRF tokens, a strict Content-Security-Policy, `Host` and
/// `Origin` checked (docs/web-console.md, docs/security.md).
public struct WebConsole: Sendable {
    public let configuration: WebConsoleConfiguration

    public init(configuration: WebConsoleConfiguration) {
        self.configuration = configuration
    }

    /// Serves until SIGINT or SIGTERM; `onStart` gets the one-time login URL
    /// once the server listens.
    ///
    /// One `ServiceGroup` owns the signals and everything that runs: the HTTP
    /// server, the live updates (``LiveUpdates``) and `services` (the caller's,
    /// such as grant expiry). On SIGTERM they stop in reverse order — the
    /// caller's services, then the live updates, which end the pages' event
    /// streams, then the server, which lets the requests in flight finish
    /// (docs/concurrency.md).
    public func run(
        logger: Logger, services: [any Service] = [], onStart: @escaping @Sendable (String) -> Void
    ) async throws {
        let token = try AccessToken.loadOrCreate(at: configuration.tokenFile)
        let sessions = SessionStore(accessToken: token)
        let broadcast = QueueBroadcast()
        let notifier: Notifier? =
            configuration.notifications.isEnabled
            ? Notifier(
                settings: configuration.notifications, queueRoot: configuration.queueRoot,
                configRoot: configuration.configRoot, logger: logger)
            : nil
        let rules = configuration.policy.map {
            PolicyRunner(
                source: $0, queueRoot: configuration.queueRoot, configRoot: configuration.configRoot,
                engine: configuration.engine, logger: logger)
        }
        let router = makeRouter(sessions: sessions, broadcast: broadcast)
        let server: HTTPServerBuilder
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            do {
                let tls = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.string).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: key.string, format: .pem)))
                server = try .tls(.http1(), tlsConfiguration: tls)
            } catch {
                throw WebConsoleError.tls("cannot use \(certificate) and \(key): \(error)")
            }
        } else {
            server = .http1()
        }
        let scheme = configuration.usesTLS ? "https" : "http"
        let host = ["0.0.0.0", "::"].contains(configuration.bind) ? "127.0.0.1" : configuration.bind
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.bind, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let code = await sessions.newLoginCode()
                onStart("\(scheme)://\(shownHost):\(port)/login?code=\(code)")
            },
            logger: logger)

        // The fleet's page follows the database's changes, not this host's files.
        let live = LiveUpdates(
            queueRoot: configuration.queueRoot, broadcast: broadcast, notifier: notifier, rules: rules,
            fleet: configuration.fleet.map { FleetLiveFeed(store: $0.store, logger: logger) })
        let running: [any Service] = [app, live] + services
        let group = ServiceGroup(
            configuration: .init(
                services: running.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// The router with its middleware and routes (public for the tests' in-process client).
    public func makeRouter(sessions: SessionStore, broadcast: QueueBroadcast) -> Router<WebRequestContext> {
        let router = Router(context: WebRequestContext.self)
        router.add(middleware: HostCheckMiddleware(hosts: AllowedHosts(
                    bind: configuration.bind, extra: configuration.allowedHosts,
                    scheme: configuration.usesTLS ? "https" : "http")))
        router.add(middleware: SecurityHeadersMiddleware(usesTLS: configuration.usesTLS))
        var sessionCheck = SessionMiddleware(sessions: sessions)
        if let operators = configuration.fleet?.operators {
            sessionCheck.operatorAddedAt = { name in
                guard let name = FleetOperatorName(name) else { return nil }
                return try await operators.addedAt(name)
            }
        }
        router.add(middleware: sessionCheck)
        WebRoutes(configuration: configuration, sessions: sessions, broadcast: broadcast).add(to: router)
        return router
    }
}
