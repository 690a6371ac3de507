import Foundation
import Logging
import MCP
import Queue
import Synchronization

/// Turns a `tools/call` into a proposal in the bottle's queue and holds the
/// call until the operator decides.
///
/// Every held call waits through one ``DecisionWaiter`` (one inotify watch for
/// all of them). A call ends in one of four ways: a decision (answered, then
/// archived), a cancellation (the proposal is withdrawn), a dropped connection
/// (the proposal stays; the same call retried re-attaches) or a shutdown (the
/// proposal stays; the client is told to retry).
public final class CallHolder: Sendable {
    /// How a held call ended.
    public enum Outcome: Sendable {
        /// The operator decided: the `tools/call` result to send, then ``delivered(_:)``.
        case decided(result: Value, proposal: Proposal)
        /// The client cancelled; the proposal is withdrawn (or the operator's decision stands).
        case withdrawn
        /// The client went away; the proposal waits for a retry.
        case disconnected
        /// The sidecar is stopping.
        case restarting
        /// The queue failed under the call.
        case failed(RPCError)
    }

    /// What `tools/call` does after validation and submission.
    public enum Admission: Sendable {
        /// Already decided (a retry of a decided proposal): answer at once, then ``delivered(_:)``.
        case answered(result: Value, proposal: Proposal)
        /// Pending: hold the call with ``wait(_:)``.
        case held(HeldCall)
    }

    /// The sidecar's settings.
    public let configuration: SidecarConfiguration
    /// The bottle's queue.
    public let queue: BottleQueue
    /// Counters for `/metrics`.
    public let metrics: SidecarMetrics
    private let waiter: DecisionWaiter
    private let logger: Logger
    fileprivate let calls = Mutex<[CallKey: HeldCall]>([:])
    private let stopping = Atomic<Bool>(false)

    /// Opens the bottle's queue, recovers it after a crash or restart (clearing
    /// waiting markers: no call is attached yet) and starts watching decisions.
    public init(configuration: SidecarConfiguration, metrics: SidecarMetrics, logger: Logger) throws(QueueError) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        queue = BottleQueue(directory: configuration.queueDirectory, bottle: configuration.bottle)
        try queue.prepare()
        _ = try queue.recover(clearWaitingMarkers: true)
        waiter = try DecisionWaiter(queue: queue)
    }

    /// The number of calls held right now.
    public var heldCount: Int { calls.withLock { $0.count } }

    /// Validates a `tools/call` and submits its proposal.
    ///
    /// Validation runs before anything is queued; its message goes back as -32602.
    public func admit(_ params: [String: Value], key: CallKey) async throws(RPCError) -> Admission {
        if stopping.load(ordering: .relaxed) { throw .restarting }
        let request = try ToolCallRequest(params)
        let current = configuration.currentFile(request.tool.configFile)
        do {
            try ProposedFileValidator.validate(request.proposedFile, for: request.tool, current: current)
        } catch {
            throw .invalidParams("\(request.tool.rawValue): \(error.description)")
        }
        let candidate = Proposal(
            bottle: configuration.bottle, tool: request.tool, proposedFile: request.proposedFile,
            justification: request.justification, currentFileSHA256: current.map(SHA256Hex.of),
            expiresAt: configuration.deadline(from: Date()))
        let submission: Submission
        do {
            submission = try await queue.submit(candidate)
        } catch {
            logger.error("could not queue proposal", metadata: ["error": "\(error)"])
            throw .internalError("the sidecar could not write to its queue: \(error.description)")
        }
        switch submission {
        case .queued(let proposal):
            try? queue.setWaiting(proposal.id, true)
            logger.info(
                "queued proposal",
                metadata: [
                    "proposal": "\(proposal.id)", "tool": "\(proposal.tool.rawValue)", "bottle": "\(proposal.bottle)",
                ])
            return .held(HeldCall(proposal: proposal, key: key))
        case .attached(let proposal):
            try? queue.setWaiting(proposal.id, true)
            logger.info("re-attached to pending proposal", metadata: ["proposal": "\(proposal.id)"])
            return .held(HeldCall(proposal: proposal, key: key))
        case .decided(let proposal, let decision):
            logger.info(
                "answered retry with its decision",
                metadata: ["proposal": "\(proposal.id)", "status": "\(decision.status.rawValue)"])
            metrics.decision(decision.status)
            return .answered(result: ToolAnswer.result(for: decision, of: proposal), proposal: proposal)
        }
    }

    /// Holds `call` until its decision or an interrupt, then calls `then`
    /// with how it ended (on whichever thread noticed; `then` must not block).
    ///
    /// Nothing but a closure waits: no task, no thread, so 10,000 held calls
    /// cost their proposals and a dictionary entry each.
    public func hold(_ call: HeldCall, then: @escaping @Sendable (Outcome) -> Void) {
        let id = call.proposal.id
        let replaced = calls.withLock { calls in calls.updateValue(call, forKey: call.key) }
        replaced?.interrupt(.disconnected)
        metrics.heldCalls(heldCount)
        if stopping.load(ordering: .relaxed) { call.interrupt(.restarting) }
        let cancel = waiter.onDecision(for: id) { [self] result in
            calls.withLock { calls in
                if calls[call.key] === call { calls[call.key] = nil }
            }
            metrics.heldCalls(heldCount)
            switch result {
            case .success(let decision):
                logger.info(
                    "decided proposal", metadata: ["proposal": "\(id)", "status": "\(decision.status.rawValue)"])
                metrics.decision(decision.status)
                then(.decided(result: ToolAnswer.result(for: decision, of: call.proposal), proposal: call.proposal))
            case .failure(let error):
                switch call.interruption {
                case .cancelled:
                    Task {
                        await withdraw(call.proposal)
                        then(.withdrawn)
                    }
                case .restarting:
                    clearWaiting(id, except: call)
                    then(.restarting)
                case .disconnected, nil:
                    if !(error is CancellationError) {
                        logger.error(
                            "waiting for a decision failed", metadata: ["proposal": "\(id)", "error": "\(error)"])
                        try? queue.setWaiting(id, false)
                        then(.failed(.internalError("the sidecar could not read the decision: \(error)")))
                        return
                    }
                    clearWaiting(id, except: call)
                    logger.info("held call dropped; proposal stays pending", metadata: ["proposal": "\(id)"])
                    then(.disconnected)
                }
            }
        }
        call.attach(cancel)
    }

    /// Holds `call` until its decision or an interrupt (``hold(_:then:)`` for a task).
    public func wait(_ call: HeldCall) async -> Outcome {
        await withCheckedContinuation { continuation in
            hold(call) { continuation.resume(returning: $0) }
        }
    }

    /// Archives a proposal whose decision reached the agent.
    public func delivered(_ proposal: Proposal) async {
        do {
            try await queue.archive(proposal)
        } catch {
            logger.error("could not archive proposal", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
        }
    }

    /// Handles `notifications/cancelled` for `key`: withdraws the held call's proposal.
    /// Returns whether a held call matched.
    @discardableResult
    public func cancel(_ key: CallKey) -> Bool {
        guard let call = calls.withLock({ $0[key] }) else { return false }
        call.interrupt(.cancelled)
        return true
    }

    /// Ends every held call with "sidecar restarting" and refuses new ones;
    /// pending proposals stay in the queue.
    public func shutdown() {
        stopping.store(true, ordering: .relaxed)
        let held = calls.withLock { Array($0.values) }
        if !held.isEmpty { logger.info("sidecar stopping; ending held calls", metadata: ["held": "\(held.count)"]) }
        for call in held { call.interrupt(.restarting) }
    }

    /// The number of undecided proposals in the queue (for `/metrics`).
    public func pendingCount() -> Int { (try? queue.pendingCount()) ?? 0 }

    /// Removes `id`'s waiting marker unless another call (a retry that
    /// arrived before this one's drop was noticed) still waits on it.
    private func clearWaiting(_ id: ProposalID, except call: HeldCall) {
        let othersWaiting = calls.withLock { calls in
            calls.values.contains { $0 !== call && $0.proposal.id == id }
        }
        if !othersWaiting { try? queue.setWaiting(id, false) }
    }

    private func withdraw(_ proposal: Proposal) async {
        let withdrawal = Decision(
            id: proposal.id, status: .withdrawn, notes: "the agent cancelled the call", decidedBy: "agent")
        do {
            try queue.decide(withdrawal)
            logger.info("withdrew proposal", metadata: ["proposal": "\(proposal.id)"])
            metrics.decision(.withdrawn)
        } catch .alreadyDecided(_, let status) {
            logger.info(
                "cancelled call's proposal was already decided",
                metadata: ["proposal": "\(proposal.id)", "status": "\(status.rawValue)"])
        } catch {
            logger.error("could not withdraw proposal", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
            return
        }
        await delivered(proposal)
    }
}

extension CallHolder {
    /// Ends every held call as dropped (stdin closed): proposals stay pending.
    public func shutdownForDisconnect() {
        let held = calls.withLock { Array($0.values) }
        for call in held { call.interrupt(.disconnected) }
    }
}
