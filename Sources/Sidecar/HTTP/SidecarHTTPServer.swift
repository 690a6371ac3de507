import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// The sidecar over Streamable HTTP: `POST /mcp` (and `POST /` for clients
/// configured for the seed), `DELETE /mcp` to end a session, `GET /health`,
/// `GET /metrics`.
///
/// Built on SwiftNIO directly rather than on Hummingbird: almost every
/// request is answered from memory, and answering it on the event loop that
/// read it (``SidecarConnection``) is what lets one small process serve tens
/// of thousands of `tools/list` a second and hold 10,000 calls in a few
/// kilobytes each; Hummingbird runs every request in a Swift task, with its
/// own stack, and hops there and back (docs/architecture.md, docs/performance.md).
///
/// A held `tools/call` answers with an event stream when the client accepts
/// one: keep-alives every interval (progress notifications when the request
/// carried a progress token, SSE comments otherwise), then the response.
public struct SidecarHTTPServer: Service {
    /// Bodies above this get 413 (the seed's limit).
    public static let maximumBodySize = 1 << 20
    /// Connections above this wait in the accept backlog until one closes.
    public static let maximumConnections = 12_000
    /// A request must be complete within this of the connection opening or
    /// of the previous response; idle connections close after it.
    public static let requestTimeout: Duration = .seconds(60)
    /// Tool calls admitted at once (the rest wait, cheaply; see ``AdmissionGate``).
    static let concurrentAdmissions = 256

    static let sessionHeader = "Mcp-Session-Id"
    static let versionHeader = "MCP-Protocol-Version"

    private let settings: SidecarConnection<ContinuousClock>.Settings
    private let host: String
    private let port: Int
    private let onListening: @Sendable (Int) -> Void
    /// This server's ``drainTimeout`` (a test sets it far away, to tell the quiesce's close from the deadline's).
    private let drainLimit: TimeAmount

    /// A server over `dispatcher` for `host:port`; `onListening` gets the
    /// bound port (useful with port 0). Requests must address it by a name
    /// in `allowedHosts` (loopback names and `host` are always allowed).
    public init(
        dispatcher: Dispatcher, keepalive: Duration, host: String, port: Int, allowedHosts: [String] = [],
        drainTimeout: TimeAmount = SidecarHTTPServer.drainTimeout, logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) {
        settings = .init(
            dispatcher: dispatcher, keepalive: keepalive, requestTimeout: Self.requestTimeout, logger: logger,
            admissions: AdmissionGate(limit: Self.concurrentAdmissions),
            hosts: HostAllowList(bindAddress: host, extra: allowedHosts))
        self.host = host
        self.port = port
        self.drainLimit = drainTimeout
        self.onListening = onListening
    }

    /// One connection's pipeline, from the bytes up (tests build the same one
    /// on an `EmbeddedChannel`).
    static func configure<C: Clock<Duration>>(
        _ pipeline: ChannelPipeline.SynchronousOperations, drainLimit: TimeAmount, connection: SidecarConnection<C>
    ) throws {
        // First, so it sees the quiesce event before HTTPServerPipelineHandler consumes it.
        try pipeline.addHandler(DrainDeadline(limit: drainLimit))
        // Our response headers are constants and ids we generate: no need to validate each one.
        // Parse errors are answered by ProtocolErrorAnswer, not NIO's handler, which writes
        // even into a connection that quiescing closed.
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false)
        try pipeline.addHandler(ProtocolErrorAnswer())
        try pipeline.addHandler(connection)
    }

    /// How long a connection may take to finish its response once shutdown
    /// began (``DrainDeadline``); then it is closed.
    public static let drainTimeout: TimeAmount = .seconds(2)

    /// Serves until graceful shutdown (SIGTERM), then drains through NIO's
    /// quiesce mechanism: the listener closes, every connection gets a
    /// `ChannelShouldQuiesceEvent` — idle ones close at once, busy ones close
    /// after their response — and this returns once the last one closed.
    /// Held calls are answered "sidecar restarting" by ``SidecarShutdown``
    /// (the same signal), and that answer is the response their connections
    /// finish with.
    public func run() async throws {
        let settings = self.settings
        let drainLimit = self.drainLimit
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                    try pipeline.addHandler(ConnectionCap(limit: Self.maximumConnections))
                }
            }
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A TCP-level option: `.socketOption(.tcp_nodelay)` would set level SOL_SOCKET, option 1 —
            // SO_DEBUG, which only root may set; as the image's non-root user every connection closed.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            // Each connection keeps its last receive buffer for the next read:
            // start small (a request is a few hundred bytes), grow for big bodies.
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 256, initial: 1024, maximum: 64 << 10)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(
                        channel.pipeline.syncOperations, drainLimit: drainLimit,
                        connection: SidecarConnection<ContinuousClock>(settings: settings))
                }
            }
        let listener = try await bootstrap.bind(host: host, port: port).get()
        onListening(listener.localAddress?.port ?? port)
        settings.logger.info("listening", metadata: ["address": "\(listener.localAddress.map { "\($0)" } ?? host)"])
        await withGracefulShutdownHandler {
            try? await listener.closeFuture.get()
        } onGracefulShutdown: {
            quiescing.initiateShutdown(promise: nil)
        }
        // Here after a graceful shutdown, or when the listener failed: either way the open connections
        // drain (a second call joins the shutdown under way), and `drained` completes when the last closed.
        let drained = listener.eventLoop.makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: drained)
        try? await drained.futureResult.get()
    }
}
