/// The life of one sidecar connection, without I/O: what the handler
/// (``SidecarConnection``) must do when a request part arrives, a response
/// ends, a timer fires or the peer goes away.
///
/// Kept apart from the channel handler so every rule — the request timeout,
/// the body limit, `100-continue`, a held call's keep-alive ticks, closing
/// after `Connection: close`, a closed stream as cancellation — is a pure
/// function of the state and a clock, tested alone with a clock the test
/// moves (as Hummingbird's `HTTPConnectionStateHandler.StateMachine`).
///
/// One request at a time: `HTTPServerPipelineHandler`, in front of the
/// handler, holds a pipelined request back until the previous response ended.
struct ConnectionStateMachine<C: Clock<Duration>> {
    /// Where the connection is.
    enum State: Equatable {
        /// Waiting for a request; the request clock started at `since`.
        case idle(since: C.Instant)
        /// A request's head came; its body is arriving (`bytes` so far).
        case reading(since: C.Instant, bytes: Int)
        /// The request was refused before its end (413): the rest of its body
        /// is dropped and the connection closes at its end or at `closeAt`.
        case refusing(closeAt: C.Instant)
        /// A request is being answered (admitted, gathered): no clock runs.
        case answering
        /// A `tools/call` is held for the operator; `beats` keep-alives sent.
        case holding(HeldResponse, beats: Int)
        /// The connection is closed.
        case closed
    }

    /// How a held call's response is being sent.
    struct HeldResponse: Equatable {
        /// An event stream (keep-alives are sent on it) or a plain JSON response (nothing until the answer).
        var streaming: Bool
        /// Whether the peer closing the connection cancels the call (the
        /// 2026-07-28 rule); before it, a disconnect is not a cancellation
        /// and the proposal stays for the agent's retry.
        var closeCancels: Bool
    }

    /// What the machine was configured with.
    struct Limits {
        /// A request must be complete within this of the connection opening or the previous response.
        var requestTimeout: Duration
        /// The interval between keep-alives on a held call's stream.
        var keepalive: Duration
        /// Bodies above this get 413.
        var maximumBody: Int
        /// How long a refused request's body may keep arriving before the connection closes.
        var lingerAfterRefusal: Duration
    }

    private(set) var state: State
    /// Whether the connection stays open after the current response (HTTP keep-alive).
    private(set) var keepAlive = true
    let limits: Limits
    let clock: C

    init(limits: Limits, clock: C) {
        self.limits = limits
        self.clock = clock
        state = .idle(since: clock.now)
    }

    // MARK: - Opening

    /// The connection became active: start the request clock.
    mutating func activated() -> C.Instant {
        let now = clock.now
        state = .idle(since: now)
        return now.advanced(by: limits.requestTimeout)
    }

    // MARK: - Reading a request

    /// What to do with a request's head.
    enum HeadAction: Equatable {
        /// Read its body; send `100 Continue` first when the client asked for it.
        case readBody(sendContinue: Bool)
        /// Answer 413 and close once the body is in, or at the deadline.
        case refuseTooLarge(closeAt: C.Instant)
        /// Nothing: the head is out of order (a refused request's trailer, a closed connection).
        case ignore
    }

    mutating func head(contentLength: Int?, expectsContinue: Bool, keepAlive: Bool) -> HeadAction {
        guard case .idle(let since) = state else { return .ignore }
        self.keepAlive = keepAlive
        if let contentLength, contentLength > limits.maximumBody { return refuse() }
        state = .reading(since: since, bytes: 0)
        // A client that sent `Expect: 100-continue` with an acceptable length may send its body.
        return .readBody(sendContinue: expectsContinue)
    }

    /// What to do with a chunk of body.
    enum BodyAction: Equatable {
        /// Keep it.
        case append
        /// Drop it (a refused request, or no request being read).
        case drop
        /// The body just passed the limit: answer 413 and close once it is in, or at the deadline.
        case refuseTooLarge(closeAt: C.Instant)
    }

    mutating func body(bytes count: Int) -> BodyAction {
        guard case .reading(let since, let bytes) = state else { return .drop }
        guard bytes + count <= limits.maximumBody else {
            if case .refuseTooLarge(let closeAt) = refuse() { return .refuseTooLarge(closeAt: closeAt) }
            return .drop
        }
        state = .reading(since: since, bytes: bytes + count)
        return .append
    }

    /// What to do at a request's end.
    enum EndAction: Equatable {
        /// Answer it.
        case answer
        /// Close: it was refused, and its body is now in.
        case close
        /// Nothing.
        case ignore
    }

    mutating func end() -> EndAction {
        switch state {
        case .reading:
            state = .answering
            return .answer
        case .refusing:
            state = .closed
            return .close
        default:
            return .ignore
        }
    }

    private mutating func refuse() -> HeadAction {
        keepAlive = false
        let closeAt = clock.now.advanced(by: limits.lingerAfterRefusal)
        state = .refusing(closeAt: closeAt)
        return .refuseTooLarge(closeAt: closeAt)
    }

    // MARK: - Holding a call

    /// The request became a held call; returns when the first keep-alive is
    /// due (`nil` when the response is not a stream, or the connection is gone).
    mutating func held(_ response: HeldResponse) -> C.Instant? {
        guard case .answering = state else { return nil }
        state = .holding(response, beats: 0)
        return response.streaming ? clock.now.advanced(by: limits.keepalive) : nil
    }

    /// What to do when the keep-alive timer fires.
    enum KeepaliveAction: Equatable {
        /// Send keep-alive number `beat`; the next is due at `next`.
        case send(beat: Int, next: C.Instant)
        /// Nothing: the call was answered or the connection closed.
        case stop
    }

    mutating func keepaliveDue() -> KeepaliveAction {
        guard case .holding(let response, let beats) = state, response.streaming else { return .stop }
        state = .holding(response, beats: beats + 1)
        return .send(beat: beats + 1, next: clock.now.advanced(by: limits.keepalive))
    }

    /// Whether the held call's answer can still be written: the connection
    /// is open and holding. Leaves the machine answering (the response is being written).
    mutating func answerReady() -> Bool {
        guard case .holding = state else { return false }
        state = .answering
        return true
    }

    // MARK: - After a response

    /// What to do once a response has ended.
    enum ResponseEndAction: Equatable {
        /// Wait for the next request; it must be complete by `deadline`.
        case awaitRequest(deadline: C.Instant)
        /// Close once the response is written (`Connection: close`).
        case close
        /// Nothing: the request was refused (its own close is scheduled) or the connection is gone.
        case ignore
    }

    mutating func responseEnded() -> ResponseEndAction {
        switch state {
        case .answering, .holding, .reading, .idle:
            guard keepAlive else {
                state = .closed
                return .close
            }
            let now = clock.now
            state = .idle(since: now)
            return .awaitRequest(deadline: now.advanced(by: limits.requestTimeout))
        case .refusing, .closed:
            return .ignore
        }
    }

    // MARK: - Timers and closing

    /// What to do when the request timer fires.
    enum TimeoutAction: Equatable {
        /// The request took too long (or the connection idled): close it.
        case close
        /// The clock was restarted since the timer was set: fire again at `deadline`.
        case reschedule(deadline: C.Instant)
        /// Nothing: a request is being answered or held; its response restarts the clock.
        case ignore
    }

    mutating func requestTimerFired() -> TimeoutAction {
        let deadline: C.Instant
        switch state {
        case .idle(let since), .reading(let since, _): deadline = since.advanced(by: limits.requestTimeout)
        case .refusing(let closeAt): deadline = closeAt
        case .answering, .holding, .closed: return .ignore
        }
        guard clock.now < deadline else {
            state = .closed
            return .close
        }
        return .reschedule(deadline: deadline)
    }

    /// What closing the connection means for the request in flight.
    enum CloseAction: Equatable {
        /// A held call's response stream was closed by a 2026-07-28 client: cancel the call.
        case cancelHeldCall
        /// The peer went away from a held (or being admitted) call: it stops waiting; the proposal stays.
        case dropHeldCall
        /// Nothing was held (a call still being admitted finds the connection
        /// closed when it is ready to hold: ``held(_:)`` returns `nil`).
        case nothing
    }

    mutating func closed() -> CloseAction {
        let previous = state
        state = .closed
        guard case .holding(let response, _) = previous else { return .nothing }
        return response.closeCancels ? .cancelHeldCall : .dropHeldCall
    }

    /// Whether the connection is closed.
    var isClosed: Bool { state == .closed }
}
