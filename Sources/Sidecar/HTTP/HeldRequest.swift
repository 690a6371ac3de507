import NIOCore
import Queue

/// A `tools/call` held for the operator, and what its connection sends
/// while it waits and when it ends — the content, not the writing, which is
/// ``SidecarConnection``'s.
struct HeldRequest: Sendable {
    var call: HeldCall
    var context: Dispatcher.Context
    /// When the request arrived, for the request-duration metric.
    var started: ContinuousClock.Instant
    /// Whether the answer goes on an event stream (the client accepts
    /// `text/event-stream`), with keep-alives, or as plain JSON at the end.
    var streaming: Bool
    let dispatcher: Dispatcher

    /// Whether the peer closing the connection cancels the call (the
    /// 2026-07-28 rule); before it, a disconnect is not a cancellation and
    /// the proposal stays for the agent's retry.
    var closeCancels: Bool { context.isModern }

    /// Registers the call with the holder; `then` gets how it ended, on
    /// whichever thread noticed. Registering reads the queue (is it decided
    /// already?), so it runs in a task, off the event loop.
    func register(then: @escaping @Sendable (CallHolder.Outcome) -> Void) {
        let (holder, call) = (dispatcher.holder, call)
        Task { holder.hold(call, then: then) }
    }

    /// The connection closed while the call was being admitted: it is held
    /// and ended at once, so its waiting marker goes.
    func abandon() {
        call.interrupt(closeCancels ? .cancelled : .disconnected)
        register { _ in }
    }

    /// Keep-alive number `beat` on the stream: a progress notification when
    /// the request carried a progress token, an SSE comment otherwise.
    func keepalive(beat: Int) -> ByteBuffer {
        let waiting = "waiting for the operator's decision on proposal \(call.proposal.id)"
        guard let token = context.progressToken else { return EventStream.comment(waiting) }
        return EventStream.message(
            RPCReply.notification(
                method: "notifications/progress",
                params: .object(["progressToken": token, "progress": .integer(beat), "message": .string(waiting)])))
    }

    /// Records the request's duration, once it ended (however it ended).
    func ended() {
        dispatcher.holder.metrics.request("tools/call", took: ContinuousClock.now - started)
    }

    /// The answer to send for `outcome`, and the decision it carries, if any;
    /// `nil` when nobody is there to read it (the peer went away), after
    /// releasing that decision for the agent's retry.
    /// - Parameter connectionOpen: whether the connection can still take the
    ///   answer; asked only when there is an answer to send.
    func answer(
        _ outcome: CallHolder.Outcome, connectionOpen: () -> Bool
    ) -> (json: [UInt8], delivery: Delivery?)? {
        let disconnected = if case .disconnected = outcome { true } else { false }
        guard !disconnected, connectionOpen() else {
            // Nobody to tell: a decision stays live for the agent's retry, no longer marked as awaited.
            // Off the event loop: marking "stopped waiting" touches the queue directory.
            if case .decided(_, let proposal) = outcome {
                let holder = dispatcher.holder
                Task { holder.undelivered(proposal) }
            }
            return nil
        }
        let json = dispatcher.answer(outcome, to: context)
        // Only a decision the agent received goes to the archive; otherwise its retry gets it.
        if case .decided(_, let proposal) = outcome { return (json, .call(proposal, holder: dispatcher.holder)) }
        return (json, nil)
    }
}
