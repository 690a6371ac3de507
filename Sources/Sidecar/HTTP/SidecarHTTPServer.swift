import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MCP
import NIOCore
import Queue

/// The sidecar over Streamable HTTP: `POST /mcp` (and `POST /` for clients
/// configured for the seed), `DELETE /mcp` to end a session, `GET /health`,
/// `GET /metrics`.
///
/// A held `tools/call` answers with an event stream when the client accepts
/// one: keep-alives every interval (progress notifications when the request
/// carried a progress token, SSE comments otherwise), then the response.
public struct SidecarHTTPServer: Sendable {
    /// Bodies above this get 413 (the seed's limit).
    public static let maximumBodySize = 1 << 20
    /// Connections above this wait in the accept backlog.
    public static let maximumConnections = 12_000

    /// The method table.
    public let dispatcher: Dispatcher
    /// Keep-alive interval for held calls.
    public let keepalive: Duration
    private let logger: Logger

    /// A server over `dispatcher`.
    public init(dispatcher: Dispatcher, keepalive: Duration, logger: Logger) {
        self.dispatcher = dispatcher
        self.keepalive = keepalive
        self.logger = logger
    }

    /// The Hummingbird application listening on `host:port`; `onListening`
    /// gets the bound port (useful with port 0).
    public func application(
        host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get("health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("metrics") { _, _ in
            let bytes = dispatcher.holder.metrics.exposition(pendingCount: dispatcher.holder.pendingCount())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let post: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            await handlePost(request)
        }
        router.post("mcp", use: post)
        router.post("/", use: post)
        router.delete("mcp") { request, _ in
            guard let session = request.headers[Self.sessionHeader], dispatcher.sessions.end(session) else {
                return Self.text(.notFound, "no such session\n")
            }
            return Response(status: .noContent)
        }
        router.get("mcp") { _, _ in
            Response(
                status: .methodNotAllowed, headers: [.allow: "POST, DELETE"],
                body: .init(
                    byteBuffer: ByteBuffer(string: "this server sends no standalone event stream; POST requests\n")))
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil, backlog: 4096,
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maximumConnections)),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let versionHeader = HTTPField.Name("MCP-Protocol-Version")!

    private func handlePost(_ request: Request) async -> Response {
        let started = ContinuousClock.now
        guard OriginPolicy.allows(origin: request.headers[.origin], host: request.head.authority) else {
            return Self.json(
                .forbidden,
                RPCReply.error(id: nil, .invalidRequest("forbidden Origin: \(request.headers[.origin] ?? "")")))
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBodySize {
            return Self.text(.contentTooLarge, "request body too large (limit \(Self.maximumBodySize) bytes)\n")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBodySize)
        } catch {
            return Self.text(.contentTooLarge, "request body too large (limit \(Self.maximumBodySize) bytes)\n")
        }
        let message: RPCMessage
        switch RPCMessage.decode(body.readableBytesView) {
        case .success(let decoded): message = decoded
        case .failure(let failure):
            return Self.json(.badRequest, RPCReply.error(id: failure.id, failure.error))
        }
        defer { dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started) }

        var sessionRevision: String?
        var session = ""
        if let id = request.headers[Self.sessionHeader], message.method != "initialize" {
            guard let revision = dispatcher.sessions.revision(of: id) else {
                return Self.json(
                    .notFound,
                    RPCReply.error(id: message.id, .invalidRequest("unknown session \(id); initialize again")))
            }
            session = id
            sessionRevision = revision
        }
        if let header = request.headers[Self.versionHeader], !ProtocolRevision.all.contains(header) {
            return Self.json(
                .badRequest,
                RPCReply.error(
                    id: message.id,
                    .invalidRequest(
                        "unsupported MCP-Protocol-Version \(header); supported: \(ProtocolRevision.all.joined(separator: ", "))"
                    )))
        }
        if sessionRevision == nil, let header = request.headers[Self.versionHeader],
            ProtocolRevision.handshake.contains(header)
        {
            sessionRevision = header
        }

        switch dispatcher.handle(message, session: session, sessionRevision: sessionRevision, startsSessions: true) {
        case .accepted:
            return Response(status: .accepted)
        case .response(let bytes, let newSession):
            var response = Self.json(.ok, bytes)
            if let newSession { response.headers[Self.sessionHeader] = newSession }
            return response
        case .held(let call, let context):
            let acceptsStream = request.headers[values: .accept].contains { $0.contains("text/event-stream") }
            return acceptsStream ? stream(call, context) : await plain(call, context)
        }
    }

    private func plain(_ call: HeldCall, _ context: Dispatcher.Context) async -> Response {
        let outcome = await dispatcher.holder.wait(call)
        let bytes = dispatcher.answer(outcome, to: context)
        let holder = dispatcher.holder
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(contentLength: bytes.count) { writer in
                try await writer.write(ByteBuffer(bytes: bytes))
                try await writer.finish(nil)
                if case .decided(_, let proposal) = outcome { holder.delivered(proposal) }
            })
    }

    private func stream(_ call: HeldCall, _ context: Dispatcher.Context) -> Response {
        let dispatcher = self.dispatcher
        let interval = keepalive
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let holder = dispatcher.holder
                // One stream of events: `nil` is a keep-alive tick, a value the outcome.
                let (events, continuation) = AsyncStream.makeStream(of: CallHolder.Outcome?.self)
                let waiting = Task {
                    continuation.yield(await holder.wait(call))
                    continuation.finish()
                }
                let ticker = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if Task.isCancelled { return }
                        continuation.yield(nil)
                    }
                }
                defer { ticker.cancel() }
                var beat = 0
                for await event in events {
                    if let outcome = event {
                        ticker.cancel()
                        let bytes = dispatcher.answer(outcome, to: context)
                        do {
                            try await writer.write(Self.event(bytes))
                            try await writer.finish(nil)
                        } catch {
                            try? holder.queue.setWaiting(call.proposal.id, false)
                            throw error
                        }
                        if case .decided(_, let proposal) = outcome { holder.delivered(proposal) }
                        return
                    }
                    beat += 1
                    do {
                        try await writer.write(Self.keepalive(beat: beat, call: call, context: context))
                    } catch {
                        ticker.cancel()
                        call.interrupt(.disconnected)
                        _ = await waiting.value
                        throw error
                    }
                }
            })
    }

    private static func keepalive(beat: Int, call: HeldCall, context: Dispatcher.Context) -> ByteBuffer {
        guard let token = context.progressToken else {
            return ByteBuffer(string: ": waiting for the operator's decision on proposal \(call.proposal.id)\n\n")
        }
        let notification = RPCReply.notification(
            method: "notifications/progress",
            params: .object([
                "progressToken": token, "progress": .int(beat),
                "message": .string("waiting for the operator's decision on proposal \(call.proposal.id)"),
            ]))
        return event(notification)
    }

    private static func event(_ json: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: message\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    private static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
