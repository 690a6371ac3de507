import Testing

@testable import Sidecar

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine<ManualClock>

    let clock = ManualClock()

    func machine(body: Int = 100) -> Machine {
        Machine(
            limits: .init(
                requestTimeout: .seconds(60), keepalive: .seconds(15), maximumBody: body,
                lingerAfterRefusal: .seconds(5)),
            clock: clock)
    }

    @Test("an idle connection closes when the request timeout passes")
    func idleTimeout() {
        var machine = machine()
        #expect(machine.activated() == .at(60))
        clock.advance(by: .seconds(60))
        #expect(machine.requestTimerFired() == .close)
        #expect(machine.isClosed)
    }

    @Test("a request sent a byte at a time is cut off at the deadline counted from the previous response")
    func slowRequest() {
        var machine = machine()
        _ = machine.activated()
        clock.advance(by: .seconds(10))
        #expect(machine.head(contentLength: 50, expectsContinue: false, keepAlive: true) == .readBody(sendContinue: false))
        clock.advance(by: .seconds(40))
        #expect(machine.body(bytes: 1) == .append)
        clock.advance(by: .seconds(10))
        #expect(machine.requestTimerFired() == .close)
    }

    @Test("a timer set before the last response fires again for the rest of the new deadline")
    func lazyTimer() {
        var machine = machine()
        _ = machine.activated()
        clock.advance(by: .seconds(30))
        _ = machine.head(contentLength: 0, expectsContinue: false, keepAlive: true)
        #expect(machine.end() == .answer)
        #expect(machine.responseEnded() == .awaitRequest(deadline: .at(90)))
        clock.advance(by: .seconds(30))
        #expect(machine.requestTimerFired() == .reschedule(deadline: .at(90)))
        clock.advance(by: .seconds(30))
        #expect(machine.requestTimerFired() == .close)
    }

    @Test("no request timeout runs while a call is held, however long the operator takes")
    func heldCallHasNoTimeout() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = machine.end()
        #expect(machine.held(.init(streaming: true, closeCancels: false)) == .at(15))
        clock.advance(by: .seconds(3600))
        #expect(machine.requestTimerFired() == .ignore)
        #expect(!machine.isClosed)
    }

    @Test("a held stream gets numbered keep-alives every interval until it is answered")
    func keepaliveTicks() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = machine.end()
        #expect(machine.held(.init(streaming: true, closeCancels: false)) == .at(15))
        clock.advance(by: .seconds(15))
        #expect(machine.keepaliveDue() == .send(beat: 1, next: .at(30)))
        clock.advance(by: .seconds(15))
        #expect(machine.keepaliveDue() == .send(beat: 2, next: .at(45)))
        let ready = machine.answerReady()
        #expect(ready)
        #expect(machine.keepaliveDue() == .stop)
        #expect(machine.responseEnded() == .awaitRequest(deadline: .at(90)))
    }

    @Test("a held plain-JSON response gets no keep-alives")
    func noKeepaliveWithoutStream() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = machine.end()
        #expect(machine.held(.init(streaming: false, closeCancels: false)) == nil)
        #expect(machine.keepaliveDue() == .stop)
    }

    @Test("Connection: close closes after the response instead of waiting for another request")
    func connectionClose() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 0, expectsContinue: false, keepAlive: false)
        _ = machine.end()
        #expect(!machine.keepAlive)
        #expect(machine.responseEnded() == .close)
        #expect(machine.isClosed)
    }

    @Test("Expect: 100-continue is answered only when the announced body fits")
    func expectContinue() {
        var accepted = machine()
        _ = accepted.activated()
        #expect(accepted.head(contentLength: 100, expectsContinue: true, keepAlive: true) == .readBody(sendContinue: true))
        var refused = machine()
        _ = refused.activated()
        #expect(refused.head(contentLength: 101, expectsContinue: true, keepAlive: true) == .refuseTooLarge(closeAt: .at(5)))
    }

    @Test("a body over the limit is refused once, the rest dropped, and the connection closes at its end")
    func bodyLimit() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: nil, expectsContinue: false, keepAlive: true)
        #expect(machine.body(bytes: 60) == .append)
        #expect(machine.body(bytes: 60) == .refuseTooLarge(closeAt: .at(5)))
        #expect(machine.body(bytes: 60) == .drop)
        #expect(!machine.keepAlive)
        #expect(machine.responseEnded() == .ignore)
        #expect(machine.end() == .close)
    }

    @Test("a refused body that never ends is cut off after the linger time")
    func refusalLinger() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 1000, expectsContinue: false, keepAlive: true)
        clock.advance(by: .seconds(4))
        #expect(machine.requestTimerFired() == .reschedule(deadline: .at(5)))
        clock.advance(by: .seconds(1))
        #expect(machine.requestTimerFired() == .close)
    }

    @Test("closing a 2026-07-28 held stream cancels the call; before 2026-07-28 it is a disconnect")
    func closeAsCancel() {
        var modern = machine()
        _ = modern.activated()
        _ = modern.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = modern.end()
        _ = modern.held(.init(streaming: true, closeCancels: true))
        #expect(modern.closed() == .cancelHeldCall)
        let ready = modern.answerReady()
        #expect(!ready)

        var legacy = machine()
        _ = legacy.activated()
        _ = legacy.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = legacy.end()
        _ = legacy.held(.init(streaming: true, closeCancels: false))
        #expect(legacy.closed() == .dropHeldCall)

        var idle = machine()
        _ = idle.activated()
        #expect(idle.closed() == .nothing)
    }

    @Test("a call admitted after its connection closed is not held")
    func admittedAfterClose() {
        var machine = machine()
        _ = machine.activated()
        _ = machine.head(contentLength: 10, expectsContinue: false, keepAlive: true)
        _ = machine.end()
        #expect(machine.closed() == .nothing)
        #expect(machine.held(.init(streaming: true, closeCancels: true)) == nil)
        #expect(machine.isClosed)
    }
}
