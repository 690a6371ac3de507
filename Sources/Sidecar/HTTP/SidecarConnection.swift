import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1
import Queue

/// One client connection to the sidecar: reads HTTP/1.1 requests and answers
/// them, on the connection's event loop.
///
/// Everything that needs no file is answered right here, without leaving the
/// event loop — `tools/list`, `initialize`, `ping`, `server/discover`,
/// `/health`: that is most requests, and a hop to a Swift task and back
/// would cost more than the answer. A `tools/call` reads and writes the
/// queue, so it is admitted in a task; a held one then costs this handler's
/// state, one task parked on its decision, and a keep-alive timer on the
/// event loop — no thread, no stream.
///
/// `HTTPServerPipelineHandler` (in front of this one) holds back a pipelined
/// request until the previous response has ended, so requests are answered in
/// order and this handler sees one at a time.
final class SidecarConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the connection's owner configured.
    struct Settings: Sendable {
        var dispatcher: Dispatcher
        var keepalive: Duration
        /// A request must be complete within this of the connection opening
        /// or of the previous response: it bounds idle connections and
        /// clients that send their headers or body a byte at a time.
        var requestTimeout: Duration
        var logger: Logger
        /// Bounds the tool calls being admitted at once, across connections.
        var admissions: AdmissionGate
    }

    private enum State {
        /// Between requests.
        case idle
        /// Reading a request's body.
        case reading(HTTPRequestHead, RequestHeaders, ByteBuffer)
        /// The request was refused before its end (413); the rest is dropped and the connection closes.
        case refusing
        /// A request is being answered (a tools/call being admitted, /metrics being gathered).
        case answering
        /// A tools/call is held for the operator.
        case holding(HeldCall, keepalive: RepeatedTask?)
    }

    private let settings: Settings
    private var state = State.idle
    private var context: ChannelHandlerContext!
    private var requestTimer: Scheduled<Void>?
    /// When the connection opened or its last response ended: the request clock's start.
    private var lastResponse = NIODeadline.now()
    private var keepAlive = true
    /// Keep-alives sent on the held call's stream (the progress value).
    private var beats = 0

    init(settings: Settings) {
        self.settings = settings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        armRequestTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        if case .holding(let call, let keepalive) = state {
            keepalive?.cancel()
            // A dropped connection is not a cancellation: the proposal stays for a retry.
            call.interrupt(.disconnected)
        }
        state = .idle
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            let headers = RequestHeaders(head.headers)
            if let length = headers.contentLength, length > SidecarHTTPServer.maximumBodySize {
                return refuseTooLarge()
            }
            if headers.expectsContinue {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            state = .reading(head, headers, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard case .reading(let head, let headers, var body) = state else { return }
            guard body.readableBytes + chunk.readableBytes <= SidecarHTTPServer.maximumBodySize else {
                return refuseTooLarge()
            }
            state = .answering  // drop the reference while appending, so the buffer is not copied
            body.writeBuffer(&chunk)
            state = .reading(head, headers, body)
        case .end:
            if case .refusing = state { return context.close(promise: nil) }
            guard case .reading(let head, let headers, let body) = state else { return }
            state = .answering
            route(head, headers, body)
        }
    }

    // MARK: - Routing

    private func route(_ head: HTTPRequestHead, _ headers: RequestHeaders, _ body: ByteBuffer) {
        let path = head.uri.firstIndex(of: "?").map { head.uri[..<$0] } ?? head.uri[...]
        settings.logger.debug(
            "request",
            metadata: [
                "http": "\(head.method) \(Escaped(String(path)))", "bytes": "\(body.readableBytes)",
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
            ])
        switch (head.method, path) {
        case (.POST, "/mcp"), (.POST, "/"):
            post(headers, body)
        case (.GET, "/health"):
            respond(.ok, contentType: "text/plain", "ok\n")
        case (.GET, "/metrics"):
            let holder = settings.dispatcher.holder
            later {
                holder.metrics.exposition(pendingCount: holder.pendingCount())
            } then: { connection, bytes in
                connection.respond(.ok, contentType: "text/plain; version=0.0.4", bytes)
            }
        case (.DELETE, "/mcp"):
            guard let session = headers.session,
                settings.dispatcher.sessions.end(session)
            else { return respond(.notFound, contentType: "text/plain", "no such session\n") }
            respond(.noContent, contentType: nil, [])
        case (_, "/mcp"), (_, "/"):
            respond(
                .methodNotAllowed, contentType: "text/plain",
                "this server sends no standalone event stream; POST requests\n",
                headers: [("Allow", "POST, DELETE")])
        default:
            respond(.notFound, contentType: "text/plain", "not found: \(head.method) \(path)\n")
        }
    }

    private func post(_ headers: RequestHeaders, _ body: ByteBuffer) {
        let started = ContinuousClock.now
        let dispatcher = settings.dispatcher
        guard OriginPolicy.allows(origin: headers.origin, host: headers.host) else {
            let origin = headers.origin ?? ""
            return respondJSON(.forbidden, RPCReply.error(id: nil, .invalidRequest("forbidden Origin: \(origin)")))
        }
        let message: RPCMessage
        let decoded = body.withUnsafeReadableBytes { RPCMessage.decode($0.assumingMemoryBound(to: UInt8.self)) }
        switch decoded {
        case .success(let decoded): message = decoded
        case .failure(let failure):
            return respondJSON(.badRequest, RPCReply.error(id: failure.id, failure.error))
        }

        settings.logger.debug(
            "json-rpc",
            metadata: ["method": "\(Escaped(message.method))", "id": "\(message.id.map { "\($0)" } ?? "-")"])
        var sessionRevision: String?
        var session = ""
        if let id = headers.session, message.method != "initialize" {
            guard let revision = dispatcher.sessions.revision(of: id) else {
                return respondJSON(
                    .notFound,
                    RPCReply.error(id: message.id, .invalidRequest("unknown session \(id); initialize again")))
            }
            session = id
            sessionRevision = revision
        }
        if let version = headers.protocolVersion {
            guard ProtocolRevision.all.contains(version) else {
                let supported = ProtocolRevision.all.joined(separator: ", ")
                return respondJSON(
                    .badRequest,
                    RPCReply.error(
                        id: message.id,
                        .invalidRequest("unsupported MCP-Protocol-Version \(version); supported: \(supported)")))
            }
            if sessionRevision == nil, ProtocolRevision.handshake.contains(version) { sessionRevision = version }
        }

        switch dispatcher.handle(message, session: session, sessionRevision: sessionRevision, startsSessions: true) {
        case .accepted:
            dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
            respond(.accepted, contentType: nil, [])
        case .response(let bytes, let newSession):
            dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
            respondJSON(.ok, bytes, headers: newSession.map { [(SidecarHTTPServer.sessionHeader, $0)] } ?? [])
        case .toolCall(let call):
            let stream = headers.acceptsEventStream
            later(gate: settings.admissions) {
                await dispatcher.admit(call)
            } then: { connection, admission in
                switch admission {
                case .response(let bytes):
                    dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
                    connection.respondJSON(.ok, bytes)
                case .delivery(let bytes, let proposal):
                    dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
                    connection.deliver(bytes, proposal)
                case .held(let held, let context):
                    connection.hold(held, context, stream: stream, started: started)
                }
            }
        }
    }

    // MARK: - Holding a call

    private func hold(
        _ call: HeldCall, _ callContext: Dispatcher.Context, stream: Bool, started: ContinuousClock.Instant
    ) {
        guard context.channel.isActive else {
            // Gone while it was being admitted: held and dropped at once, so its waiting marker goes.
            call.interrupt(.disconnected)
            settings.dispatcher.holder.hold(call) { _ in }
            return
        }
        var keepalive: RepeatedTask?
        if stream {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Type", value: "text/event-stream")
            head.headers.add(name: "Cache-Control", value: "no-cache")
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
            beats = 0
            let interval = Self.timeAmount(settings.keepalive)
            let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
            keepalive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                connection.value.sendKeepalive(call: call, callContext: callContext)
            }
        }
        state = .holding(call, keepalive: keepalive)
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        settings.dispatcher.holder.hold(call) { outcome in
            eventLoop.execute {
                connection.value.answer(outcome, of: call, callContext, stream: stream, started: started)
            }
        }
    }

    private func sendKeepalive(call: HeldCall, callContext: Dispatcher.Context) {
        guard case .holding = state else { return }
        beats += 1
        let beat = beats
        let bytes: ByteBuffer
        if let token = callContext.progressToken {
            let notification = RPCReply.notification(
                method: "notifications/progress",
                params: .object([
                    "progressToken": token, "progress": .int(beat),
                    "message": .string("waiting for the operator's decision on proposal \(call.proposal.id)"),
                ]))
            bytes = Self.event(notification)
        } else {
            bytes = ByteBuffer(string: ": waiting for the operator's decision on proposal \(call.proposal.id)\n\n")
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
    }

    private func answer(
        _ outcome: CallHolder.Outcome, of call: HeldCall, _ callContext: Dispatcher.Context, stream: Bool,
        started: ContinuousClock.Instant
    ) {
        let dispatcher = settings.dispatcher
        dispatcher.holder.metrics.request("tools/call", took: ContinuousClock.now - started)
        var holding = false
        if case .holding(_, let keepalive) = state {
            keepalive?.cancel()
            holding = true
        }
        let disconnected = if case .disconnected = outcome { true } else { false }
        guard holding, context.channel.isActive, !disconnected else {
            // Nobody to tell: a decision stays live for the agent's retry, no longer marked as awaited.
            if case .decided(_, let proposal) = outcome { dispatcher.holder.undelivered(proposal) }
            return
        }
        let bytes = dispatcher.answer(outcome, to: callContext)
        let written = context.eventLoop.makePromise(of: Void.self)
        if stream {
            context.write(wrapOutboundOut(.body(.byteBuffer(Self.event(bytes)))), promise: nil)
            finish(written)
        } else {
            respondJSON(.ok, bytes, promise: written)
        }
        written.futureResult.whenComplete { result in
            switch (result, outcome) {
            case (.success, .decided(_, let proposal)):
                // Only a decision the agent received goes to the archive; otherwise its retry gets it.
                Task { await dispatcher.holder.delivered(proposal) }
            case (.failure, .decided(_, let proposal)):
                dispatcher.holder.undelivered(proposal)
            default: break
            }
        }
    }

    /// Writes a decision answered at once; it is archived only once the write completed.
    private func deliver(_ bytes: [UInt8], _ proposal: Proposal) {
        let written = context.eventLoop.makePromise(of: Void.self)
        respondJSON(.ok, bytes, promise: written)
        let holder = settings.dispatcher.holder
        written.futureResult.whenComplete { result in
            switch result {
            case .success: Task { await holder.delivered(proposal) }
            case .failure: holder.undelivered(proposal)
            }
        }
    }

    // MARK: - Responses

    private func respondJSON(
        _ status: HTTPResponseStatus, _ bytes: [UInt8], headers: [(String, String)] = [],
        promise: EventLoopPromise<Void>? = nil
    ) {
        respond(status, contentType: "application/json", bytes, headers: headers, promise: promise)
    }

    private func respond(
        _ status: HTTPResponseStatus, contentType: String?, _ text: String, headers: [(String, String)] = []
    ) {
        respond(status, contentType: contentType, Array(text.utf8), headers: headers)
    }

    private func respond(
        _ status: HTTPResponseStatus, contentType: String?, _ bytes: [UInt8], headers: [(String, String)] = [],
        promise: EventLoopPromise<Void>? = nil
    ) {
        var fields = HTTPHeaders()
        fields.reserveCapacity(3 + headers.count)
        if let contentType { fields.add(name: "Content-Type", value: contentType) }
        if status != .noContent { fields.add(name: "Content-Length", value: String(bytes.count)) }
        for (name, value) in headers { fields.add(name: name, value: value) }
        if !keepAlive { fields.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
        if !bytes.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        }
        finish(promise)
    }

    /// Ends the response; the connection then waits for its next request or closes.
    private func finish(_ promise: EventLoopPromise<Void>?) {
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if let promise { written.cascade(to: promise) }
        // A refused request's connection closes once its body is in (see refuseTooLarge).
        if case .refusing = state { return }
        state = .idle
        if keepAlive {
            armRequestTimer()
        } else {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// 413, then close once the client has sent the rest of its body (which
    /// is read and dropped) or after ``lingerAfterRefusal``: closing at once,
    /// with the body still arriving, resets the connection, and the client
    /// sees a broken pipe instead of our answer.
    private func refuseTooLarge() {
        keepAlive = false
        state = .refusing
        respond(
            .payloadTooLarge, contentType: "text/plain",
            "request body too large (limit \(SidecarHTTPServer.maximumBodySize) bytes)\n")
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.lingerAfterRefusal) { channel.close(promise: nil) }
    }

    /// How long a refused request's body may keep arriving before the connection closes.
    static let lingerAfterRefusal = TimeAmount.seconds(5)

    /// Starts the clock for the next request. One timer per connection,
    /// moved lazily: when it fires early (a later response restarted the
    /// clock) it sets itself again for the rest, so a busy keep-alive
    /// connection does not schedule and cancel a timer per request.
    private func armRequestTimer() {
        lastResponse = .now()
        if requestTimer == nil { scheduleRequestTimer(at: lastResponse + Self.timeAmount(settings.requestTimeout)) }
    }

    private func scheduleRequestTimer(at deadline: NIODeadline) {
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        requestTimer = context.eventLoop.scheduleTask(deadline: deadline) { connection.value.requestTimerFired() }
    }

    private func requestTimerFired() {
        requestTimer = nil
        switch state {
        case .answering, .holding:
            return  // no request is outstanding; finishing the answer starts the clock again
        case .idle, .reading, .refusing:
            let deadline = lastResponse + Self.timeAmount(settings.requestTimeout)
            if deadline <= .now() {
                context.close(promise: nil)
            } else {
                scheduleRequestTimer(at: deadline)
            }
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Runs `work` in a task, then `then` back on this connection's event loop.
    private func later<Value: Sendable>(
        gate: AdmissionGate? = nil,
        _ work: @escaping @Sendable () async -> Value,
        then: @escaping (SidecarConnection, Value) -> Void
    ) {
        let eventLoop = context.eventLoop
        let connection = NIOLoopBound(self, eventLoop: eventLoop)
        let then = NIOLoopBound(then, eventLoop: eventLoop)
        let job: @Sendable () async -> Void = {
            let value = await work()
            eventLoop.execute { then.value(connection.value, value) }
        }
        if let gate { gate.run(job) } else { Task { await job() } }
    }

    private static func event(_ json: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: message\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
