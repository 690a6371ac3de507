import Queue
import Synchronization

/// One `tools/call` held open for the operator: its proposal, the key the
/// client can cancel it by, and why its wait ended early, if it did.
public final class HeldCall: Sendable {
    /// Why a held call stopped waiting before its decision.
    public enum Interrupt: Sendable {
        /// The client sent `notifications/cancelled` (or closed the response
        /// stream): stop holding; the proposal stays decidable.
        case cancelled
        /// The hold limit passed: answer `pending` with the proposal id.
        case holdLimit
        /// The client went away: keep the proposal for a retry.
        case disconnected
        /// The sidecar is stopping: keep the proposal, tell the client to retry.
        case restarting
    }

    /// The proposal this call waits on.
    public let proposal: Proposal
    /// The `(session, request id)` a cancellation names.
    public let key: CallKey
    /// Whether the hold limit applies (`tasks/result` waits until the decision, as the spec says).
    public let bounded: Bool
    private let state = Mutex<(interrupt: Interrupt?, cancel: (@Sendable () -> Void)?)>((nil, nil))

    init(proposal: Proposal, key: CallKey, bounded: Bool = true) {
        self.proposal = proposal
        self.key = key
        self.bounded = bounded
    }

    /// Ends the wait for `reason`; the first reason wins.
    public func interrupt(_ reason: Interrupt) {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            if state.interrupt == nil { state.interrupt = reason }
            return state.cancel
        }
        cancel?()
    }

    var interruption: Interrupt? { state.withLock { $0.interrupt } }

    /// Installs what ends the wait; calls it at once when an interrupt came first.
    func attach(_ cancel: @escaping @Sendable () -> Void) {
        let interrupted = state.withLock { state -> Bool in
            state.cancel = cancel
            return state.interrupt != nil
        }
        if interrupted { cancel() }
    }
}

/// What a cancellation names: the session (empty without one) and the request id.
public struct CallKey: Hashable, Sendable {
    /// The session id, or "" for sessionless transports (stdio, seed-style clients).
    public var session: String
    /// The JSON-RPC id of the held `tools/call`.
    public var id: RequestID

    /// A key.
    public init(session: String, id: RequestID) {
        self.session = session
        self.id = id
    }
}
