import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import Queue

/// One client connection to the sidecar: reads HTTP/1.1 requests and answers
/// them, on the connection's event loop.
///
/// A thin handler: *when* to read, refuse, send a keep-alive, time out or
/// close is decided by its ``ConnectionStateMachine`` (tested alone); this
/// class turns those decisions into channel operations and routes requests.
///
/// Everything that needs no file is answered right here, without leaving the
/// event loop — `tools/list`, `initialize`, `ping`, `server/discover`,
/// `/health`: that is most requests, and a hop to a Swift task and back
/// would cost more than the answer. A `tools/call` reads and writes the
/// queue, so it is admitted in a task, and its hold is registered (and its
/// waiting marker cleared) from a task too: no queue I/O runs on the event
/// loop. A held call then costs this handler's state, a closure parked on
/// its decision, and a keep-alive timer on the event loop — no thread, no stream.
///
/// `HTTPServerPipelineHandler` (in front of this one) holds back a pipelined
/// request until the previous response has ended, so requests are answered in
/// order and this handler sees one at a time.
final class SidecarConnection<C: Clock<Duration>>: ChannelInboundHandler, RemovableChannelHandler {
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
        /// The names the sidecar may be addressed by, and the origins that may call it.
        var hosts: HostAllowList
    }

    /// The call this connection holds for the operator.
    private struct Held {
        var call: HeldCall
        var context: Dispatcher.Context
        var started: ContinuousClock.Instant
        var streaming: Bool
    }

    private let settings: Settings
    private var machine: ConnectionStateMachine<C>
    private var context: ChannelHandlerContext!
    /// The request being read.
    private var request: (head: HTTPRequestHead, headers: RequestHeaders, body: ByteBuffer)?
    private var held: Held?
    private var requestTimer: Scheduled<Void>?
    private var keepaliveTimer: Scheduled<Void>?
    private var lingerTimer: Scheduled<Void>?

    init(settings: Settings, clock: C) {
        self.settings = settings
        machine = ConnectionStateMachine(
            limits: .init(
                requestTimeout: settings.requestTimeout, keepalive: settings.keepalive,
                maximumBody: SidecarHTTPServer.maximumBodySize, lingerAfterRefusal: Self.lingerAfterRefusal),
            clock: clock)
    }

    /// How long a refused request's body may keep arriving before the connection closes.
    static var lingerAfterRefusal: Duration { .seconds(5) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armRequestTimer(machine.activated()) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armRequestTimer(machine.activated())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        keepaliveTimer?.cancel()
        lingerTimer?.cancel()
        request = nil
        holdingBatch?.dropped()
        switch machine.closed() {
        case .cancelHeldCall: held?.call.interrupt(.cancelled)
        case .dropHeldCall: held?.call.interrupt(.disconnected)
        case .nothing: break
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let headers = RequestHeaders(head.headers)
            switch machine.head(
                contentLength: headers.contentLength, expectsContinue: headers.expectsContinue,
                keepAlive: head.isKeepAlive)
            {
            case .readBody(let sendContinue):
                if sendContinue {
                    context.writeAndFlush(
                        wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                        promise: nil)
                }
                request = (head, headers, context.channel.allocator.buffer(capacity: 0))
            case .refuseTooLarge(let closeAt): refuseTooLarge(closeAt: closeAt)
            case .ignore: break
            }
        case .body(var chunk):
            switch machine.body(bytes: chunk.readableBytes) {
            case .append:
                guard var current = request else { return }
                request = nil  // drop the reference while appending, so the buffer is not copied
                current.body.writeBuffer(&chunk)
                request = current
            case .drop: break
            case .refuseTooLarge(let closeAt): refuseTooLarge(closeAt: closeAt)
            }
        case .end:
            switch machine.end() {
            case .answer:
                guard let (head, headers, body) = request else { return }
                request = nil
                route(head, headers, body)
            case .close: context.close(promise: nil)
            case .ignore: break
            }
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
        // DNS rebinding: every route, since /metrics and /health speak about the bottle too.
        if headers.origin != nil || headers.host != acceptedHost || headers.repeated == "host" {
            if let refusal = checkHost(headers) { return refuse(refusal) }
        }
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
            respond(.notFound, contentType: "text/plain", "not found: \(head.method) \(Escaped(String(path)))\n")
        }
    }

    /// The `Host` this connection's last request was accepted with: a
    /// keep-alive client sends the same one every time, so the allow-list
    /// is consulted once per connection, not per `tools/list`.
    private var acceptedHost: String?

    private func checkHost(_ headers: RequestHeaders) -> HostAllowList.Refusal? {
        let host = headers.repeated == "host" ? nil : headers.host
        if let refusal = settings.hosts.check(host: host, origin: headers.origin) { return refusal }
        acceptedHost = host
        return nil
    }

    private func refuse(_ refusal: HostAllowList.Refusal) {
        switch refusal {
        case .host(let host):
            respond(
                .misdirectedRequest, contentType: "text/plain",
                "this server does not answer to Host \(Escaped(host ?? "(none)")); "
                    + "address it by a name on its allow-list (--allowed-host)\n")
        case .origin(let origin):
            respondJSON(.forbidden, RPCReply.error(id: nil, .invalidRequest("forbidden Origin: \(Escaped(origin))")))
        }
    }

    private func post(_ headers: RequestHeaders, _ body: ByteBuffer) {
        let started = ContinuousClock.now
        let dispatcher = settings.dispatcher
        let message: RPCMessage
        let decoded = body.withUnsafeReadableBytes { RPCBody.decode($0.assumingMemoryBound(to: UInt8.self)) }
        switch decoded {
        case .success(.single(let decoded)): message = decoded
        case .success(.batch(let messages)): return postBatch(messages, headers)
        case .failure(let failure):
            return respondJSON(.badRequest, RPCReply.error(id: failure.id, failure.error))
        }
        if let refusal = TransportRules.check(headers, message) {
            return respondJSON(refusal.status, RPCReply.error(id: message.id, refusal.error))
        }
        settings.logger.debug(
            "json-rpc",
            metadata: ["method": "\(Escaped(message.method))", "id": "\(message.id.map { "\($0)" } ?? "-")"])
        let modern = message.envelopeRevision != nil
        let session: (id: String, revision: ProtocolRevision?)
        switch resolveSession(headers, method: message.method, modern: modern) {
        case .success(let resolved): session = resolved
        case .failure(let refusal): return respondJSON(refusal.status, RPCReply.error(id: message.id, refusal.error))
        }

        switch dispatcher.handle(message, session: session.id, sessionRevision: session.revision, startsSessions: true)
        {
        case .accepted:
            dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
            respond(.accepted, contentType: nil, [])
        case .response(let bytes, let newSession):
            dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
            respondJSON(.ok, bytes, headers: newSession.map { [(SidecarHTTPServer.sessionHeader, $0)] } ?? [])
        case .refused(let bytes, let error):
            dispatcher.holder.metrics.request(message.method, took: ContinuousClock.now - started)
            respondJSON(modern ? Self.modernStatus(of: error) : .ok, bytes)
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
                    connection.hold(Held(call: held, context: context, started: started, streaming: stream))
                }
            }
        }
    }

    /// The session a handshake-era request belongs to. A 2026-07-28 request
    /// has none: a stale `Mcp-Session-Id` (left over from an earlier
    /// handshake) is ignored rather than answered with 404.
    private func resolveSession(
        _ headers: RequestHeaders, method: String, modern: Bool
    ) -> Result<(id: String, revision: ProtocolRevision?), TransportRules.Refusal> {
        guard !modern else { return .success(("", nil)) }
        var revision: ProtocolRevision?
        var id = ""
        if let session = headers.session, method != "initialize" {
            guard let known = settings.dispatcher.sessions.revision(of: session) else {
                return .failure(
                    .init(status: .notFound, error: .invalidRequest("unknown session \(session); initialize again")))
            }
            id = session
            revision = known
        }
        if revision == nil, let version = headers.protocolVersion {
            revision = ProtocolRevision.handshake(named: version)
        }
        return .success((id, revision))
    }

    /// The HTTP status of a 2026-07-28 error answer: the transport spec maps
    /// an unknown method to 404 and a malformed or unsupported request to 400.
    static func modernStatus(of error: RPCError) -> HTTPResponseStatus {
        switch error.code {
        case -32601: .notFound
        case -32600, -32020, -32022: .badRequest
        default: .ok
        }
    }

    // MARK: - Batches (2025-03-26)

    /// A JSON-RPC batch: accepted in 2025-03-26 sessions (the one revision
    /// with batching), answered with an array once every member is answered
    /// — a held `tools/call` in a batch holds the whole answer, without
    /// keep-alives. Other revisions get -32600.
    private func postBatch(_ members: [Result<RPCMessage, RPCFailure>], _ headers: RequestHeaders) {
        let dispatcher = settings.dispatcher
        let session: (id: String, revision: ProtocolRevision?)
        switch resolveSession(headers, method: "", modern: false) {
        case .success(let resolved): session = resolved
        case .failure(let refusal): return respondJSON(refusal.status, RPCReply.error(id: nil, refusal.error))
        }
        // A 2026-07-28 batch names its revision in the header or in its members'
        // `_meta` envelopes, not in a session: it is that revision's, which has no batches.
        // An envelope may name a revision we do not speak: the refusal names it as sent.
        let modern =
            headers.protocolVersion.flatMap { ProtocolRevision.modern(named: $0)?.rawValue }
            ?? members.lazy.compactMap { try? $0.get().envelopeRevision }.first
        let named = modern ?? (session.revision ?? .unnamed).rawValue
        guard let revision = ProtocolRevision(rawValue: named), revision.hasBatches, !members.isEmpty else {
            let reason =
                members.isEmpty
                ? "an empty batch has nothing to answer"
                : "batch requests are not supported in protocol revision \(named) "
                    + "(only \(ProtocolRevision.batching.rawValue)): send one JSON-RPC request object per message"
            return respondJSON(.badRequest, RPCReply.error(id: nil, .invalidRequest(reason)))
        }
        let batch = BatchAnswer(
            dispatcher: dispatcher, admissions: settings.admissions, session: session.id, revision: revision)
        later {
            await batch.answer(members)
        } then: { connection, answered in
            guard let (bytes, delivered) = answered else { return connection.respond(.accepted, contentType: nil, []) }
            let written = connection.context.eventLoop.makePromise(of: Void.self)
            connection.respondJSON(.ok, bytes, promise: written)
            written.futureResult.whenComplete { result in
                Task { await batch.settle(delivered, written: (try? result.get()) != nil) }
            }
        }
        holdingBatch = batch
    }

    /// The batch being answered, so a dropped connection ends its held calls.
    private var holdingBatch: BatchAnswer?

    // MARK: - Holding a call

    private func hold(_ held: Held) {
        let holder = settings.dispatcher.holder
        let response = ConnectionStateMachine<C>.HeldResponse(
            streaming: held.streaming, closeCancels: held.context.isModern)
        if machine.isClosed {
            // Gone while it was being admitted: held and dropped at once, so its waiting marker goes.
            held.call.interrupt(response.closeCancels ? .cancelled : .disconnected)
            Task { holder.hold(held.call) { _ in } }
            return
        }
        if held.streaming {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Type", value: "text/event-stream")
            head.headers.add(name: "Cache-Control", value: "no-cache")
            // A reverse proxy (nginx) in front must not buffer the keep-alives away.
            head.headers.add(name: "X-Accel-Buffering", value: "no")
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        }
        if let due = machine.held(response) { scheduleKeepalive(at: due) }
        self.held = held
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // Registering reads the queue (is it decided already?): off the event loop.
        Task {
            holder.hold(held.call) { outcome in
                eventLoop.execute { connection.value.answer(outcome, of: held) }
            }
        }
    }

    private func scheduleKeepalive(at deadline: C.Instant) {
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        keepaliveTimer = context.eventLoop.scheduleTask(in: timeAmount(until: deadline)) {
            connection.value.keepaliveDue()
        }
    }

    private func keepaliveDue() {
        keepaliveTimer = nil
        guard case .send(let beat, let next) = machine.keepaliveDue(), let held else { return }
        let proposal = held.call.proposal.id
        let bytes: ByteBuffer
        if let token = held.context.progressToken {
            let notification = RPCReply.notification(
                method: "notifications/progress",
                params: .object([
                    "progressToken": token, "progress": .integer(beat),
                    "message": .string("waiting for the operator's decision on proposal \(proposal)"),
                ]))
            bytes = Self.event(notification)
        } else {
            bytes = ByteBuffer(string: ": waiting for the operator's decision on proposal \(proposal)\n\n")
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        scheduleKeepalive(at: next)
    }

    private func answer(_ outcome: CallHolder.Outcome, of held: Held) {
        let dispatcher = settings.dispatcher
        dispatcher.holder.metrics.request("tools/call", took: ContinuousClock.now - held.started)
        guard self.held?.call === held.call else { return }
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        self.held = nil
        let disconnected = if case .disconnected = outcome { true } else { false }
        guard !disconnected, machine.answerReady() else {
            // Nobody to tell: a decision stays live for the agent's retry, no longer marked as awaited.
            // Off the event loop: marking "stopped waiting" touches the queue directory.
            if case .decided(_, let proposal) = outcome { Task { dispatcher.holder.undelivered(proposal) } }
            return
        }
        let bytes = dispatcher.answer(outcome, to: held.context)
        let written = context.eventLoop.makePromise(of: Void.self)
        if held.streaming {
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
                Task { dispatcher.holder.undelivered(proposal) }
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
            // Off the event loop, as in `answer`: marking "stopped waiting" touches the queue directory.
            case .failure: Task { holder.undelivered(proposal) }
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
        guard context.channel.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var fields = HTTPHeaders()
        fields.reserveCapacity(3 + headers.count)
        if let contentType { fields.add(name: "Content-Type", value: contentType) }
        if status != .noContent { fields.add(name: "Content-Length", value: String(bytes.count)) }
        for (name, value) in headers { fields.add(name: name, value: value) }
        if !machine.keepAlive { fields.add(name: "Connection", value: "close") }
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
        holdingBatch = nil
        switch machine.responseEnded() {
        case .awaitRequest(let deadline): armRequestTimer(deadline)
        case .close:
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        case .ignore: break
        }
    }

    /// 413, then close once the client has sent the rest of its body (which
    /// is read and dropped) or at `closeAt`: closing at once, with the body
    /// still arriving, resets the connection, and the client sees a broken
    /// pipe instead of our answer.
    private func refuseTooLarge(closeAt: C.Instant) {
        respond(
            .payloadTooLarge, contentType: "text/plain",
            "request body too large (limit \(SidecarHTTPServer.maximumBodySize) bytes)\n")
        let channel = context.channel
        lingerTimer = context.eventLoop.scheduleTask(in: timeAmount(until: closeAt)) { channel.close(promise: nil) }
    }

    /// Sets the request timer for `deadline` unless one is set: one timer
    /// per connection, moved lazily — when it fires early (a later response
    /// restarted the clock) the machine says when to fire again, so a busy
    /// keep-alive connection does not schedule and cancel a timer per request.
    private func armRequestTimer(_ deadline: C.Instant) {
        guard requestTimer == nil else { return }
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        requestTimer = context.eventLoop.scheduleTask(in: timeAmount(until: deadline)) {
            connection.value.requestTimerFired()
        }
    }

    private func requestTimerFired() {
        requestTimer = nil
        switch machine.requestTimerFired() {
        case .close: context.close(promise: nil)
        case .reschedule(let deadline): armRequestTimer(deadline)
        case .ignore: break
        }
    }

    private func timeAmount(until deadline: C.Instant) -> TimeAmount {
        let duration = machine.clock.now.duration(to: deadline)
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
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

extension SidecarConnection where C == ContinuousClock {
    /// A connection timed by the system's monotonic clock.
    convenience init(settings: Settings) { self.init(settings: settings, clock: ContinuousClock()) }
}

@available(*, unavailable)
extension SidecarConnection: Sendable {}
