import Logging
import NIOCore
import NIOHTTP1
import Queue

/// One client connection to the sidecar: the I/O, on the connection's event
/// loop, and nothing else.
///
/// Three parts, each tested alone: *when* to read, refuse, send a keep-alive,
/// time out or close is decided by ``ConnectionStateMachine``; *what* a
/// request means — its route, the `Host` rules, its session, a batch — by
/// ``SidecarResponder``, which returns a ``ResponderAction``; this class
/// reads the request whole, hands it over, and performs the action: writes a
/// response, runs deferred work in a task and comes back, or holds a call
/// (an event-stream head, keep-alives on a timer, the answer when the
/// holder calls back).
///
/// Most requests are answered without leaving the event loop: a hop to a
/// Swift task and back would cost more than the answer. Queue I/O never runs
/// here: admission, registering a hold, and archiving a delivered decision
/// run in tasks. A held call costs this handler's state, a closure parked on
/// its decision and a keep-alive timer — no thread, no stream.
///
/// `HTTPServerPipelineHandler` (in front of this one) holds back a pipelined
/// request until the previous response has ended, so requests are answered
/// in order and this handler sees one at a time; it also handles the quiesce
/// event of a graceful shutdown (``SidecarHTTPServer/run()``).
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

    private let logger: Logger
    private var responder: SidecarResponder
    private var machine: ConnectionStateMachine<C>
    private var context: ChannelHandlerContext!
    /// The request being read.
    private var request: (head: HTTPRequestHead, headers: RequestHeaders, body: ByteBuffer)?
    private var held: HeldRequest?
    /// The batch being answered, so a dropped connection ends its held calls.
    private var holdingBatch: BatchAnswer?
    private var requestTimer: Scheduled<Void>?
    private var keepaliveTimer: Scheduled<Void>?
    private var lingerTimer: Scheduled<Void>?

    init(settings: Settings, clock: C) {
        logger = settings.logger
        responder = SidecarResponder(
            dispatcher: settings.dispatcher, admissions: settings.admissions, hosts: settings.hosts,
            logger: settings.logger)
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

    // MARK: - Reading a request

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
                let request = SidecarRequest(method: head.method, uri: head.uri, headers: headers, body: body)
                logger.debug(
                    "request",
                    metadata: [
                        "http": "\(head.method) \(Escaped(String(request.path)))", "bytes": "\(body.readableBytes)",
                        "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
                    ])
                perform(responder.respond(to: request))
            case .close: context.close(promise: nil)
            case .ignore: break
            }
        }
    }

    // MARK: - Performing the responder's actions

    private func perform(_ action: ResponderAction) {
        switch action {
        case .respond(let response):
            respond(response)
        case .deliver(let response, let delivery):
            let written = context.eventLoop.makePromise(of: Void.self)
            respond(response, promise: written)
            settle(delivery, when: written.futureResult)
        case .hold(let held):
            hold(held)
        case .deferred(let work):
            run(work)
        }
    }

    /// Runs `work` in a task (through its gate, if any), then performs its
    /// action back on this connection's event loop.
    private func run(_ work: DeferredWork) {
        if let batch = work.batch { holdingBatch = batch }
        let eventLoop = context.eventLoop
        let connection = NIOLoopBound(self, eventLoop: eventLoop)
        let run = work.run
        let job: @Sendable () async -> Void = {
            let action = await run()
            eventLoop.execute { connection.value.perform(action) }
        }
        if let gate = work.gate { gate.run(job) } else { Task { await job() } }
    }

    /// Archives (or releases) the decisions `delivery` carries once `written` says how the write went.
    private func settle(_ delivery: Delivery, when written: EventLoopFuture<Void>) {
        written.whenComplete { result in
            let ok = if case .success = result { true } else { false }
            // Off the event loop: archiving and "stopped waiting" touch the queue directory.
            Task { await delivery.settle(written: ok) }
        }
    }

    // MARK: - Holding a call

    private func hold(_ held: HeldRequest) {
        if machine.isClosed {
            // Gone while it was being admitted: held and dropped at once, so its waiting marker goes.
            held.abandon()
            return
        }
        if held.streaming {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            for (name, value) in EventStream.headers { head.headers.add(name: name, value: value) }
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        }
        let response = ConnectionStateMachine<C>.HeldResponse(
            streaming: held.streaming, closeCancels: held.closeCancels)
        if let due = machine.held(response) { scheduleKeepalive(at: due) }
        self.held = held
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        held.register { outcome in
            eventLoop.execute { connection.value.answer(outcome, of: held) }
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
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(held.keepalive(beat: beat)))), promise: nil)
        scheduleKeepalive(at: next)
    }

    private func answer(_ outcome: CallHolder.Outcome, of held: HeldRequest) {
        held.ended()
        guard self.held?.call === held.call else { return }
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        self.held = nil
        guard let (json, delivery) = held.answer(outcome, connectionOpen: { machine.answerReady() }) else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        if held.streaming {
            context.write(wrapOutboundOut(.body(.byteBuffer(EventStream.message(json)))), promise: nil)
            finish(written)
        } else {
            respond(.json(.ok, json), promise: written)
        }
        if let delivery { settle(delivery, when: written.futureResult) }
    }

    // MARK: - Responses

    private func respond(_ response: SidecarResponse, promise: EventLoopPromise<Void>? = nil) {
        guard context.channel.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var fields = HTTPHeaders()
        fields.reserveCapacity(3 + response.headers.count)
        if let contentType = response.contentType { fields.add(name: "Content-Type", value: contentType) }
        if response.status != .noContent { fields.add(name: "Content-Length", value: String(response.body.count)) }
        for (name, value) in response.headers { fields.add(name: name, value: value) }
        if !machine.keepAlive { fields.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: fields))),
            promise: nil)
        if !response.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))),
                promise: nil)
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
        respond(.text(.payloadTooLarge, "request body too large (limit \(SidecarHTTPServer.maximumBodySize) bytes)\n"))
        let channel = context.channel
        lingerTimer = context.eventLoop.scheduleTask(in: timeAmount(until: closeAt)) { channel.close(promise: nil) }
    }

    // MARK: - Timers

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
}

extension SidecarConnection where C == ContinuousClock {
    /// A connection timed by the system's monotonic clock.
    convenience init(settings: Settings) { self.init(settings: settings, clock: ContinuousClock()) }
}

@available(*, unavailable)
extension SidecarConnection: Sendable {}
