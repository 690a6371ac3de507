import FoundationEssentials
import Logging
import Queue
import Synchronization

/// Turns a `tools/call` into a proposal in the bottle's queue and holds the
/// call until the operator decides, or until the hold limit passes.
///
/// A proposal outlives the call that made it. Every held call waits through
/// one ``DecisionWaiter`` (one inotify watch for all of them) and ends in
/// one of these ways: a decision (answered; archived only once the answer
/// was written to a connection that then completed), the hold limit (answered
/// `pending` with the proposal id, for `proposal-status`), a cancellation or a
/// dropped connection (nothing is withdrawn: the proposal stays decidable and
/// the queue records when the agent stopped waiting), or a shutdown (the
/// client is told to retry). A decision made while nobody waits stays live
/// until an agent asks for it: by the identical call, `proposal-status` or
/// `tasks/result`.
public final class CallHolder: Sendable {
    /// How a held call ended.
    public enum Outcome: Sendable {
        /// The operator decided: the `tools/call` result to send, then ``delivered(_:)``
        /// once it was written (or ``undelivered(_:)`` when it could not be).
        case decided(result: JSONValue, proposal: Proposal)
        /// The hold limit passed undecided: the `pending` result to send.
        /// The proposal stays in the queue for `proposal-status`.
        case pending(result: JSONValue, proposal: Proposal)
        /// The client cancelled the call; the proposal stays decidable.
        case cancelled(proposal: Proposal)
        /// The client went away; the proposal waits for a retry.
        case disconnected
        /// The sidecar is stopping.
        case restarting
        /// The queue failed under the call.
        case failed(RPCError)
    }

    /// What `tools/call` does after its arguments are read.
    public enum Admission: Sendable {
        /// Already decided (a retry, or a status check of a decided proposal):
        /// answer at once, then ``delivered(_:)``.
        case answered(result: JSONValue, proposal: Proposal)
        /// Pending: hold the call with ``hold(_:then:)`` or ``wait(_:)``.
        case held(HeldCall)
        /// The tool's input is wrong in a way the model can fix: the message
        /// says what to fix (a tool result with `isError` from 2025-11-25 on,
        /// -32602 before).
        case invalid(String)
    }

    /// The sidecar's settings.
    public let configuration: SidecarConfiguration
    /// The bottle's queue.
    public let queue: BottleQueue
    /// Counters for `/metrics`.
    public let metrics: SidecarMetrics
    private let waiter: DecisionWaiter
    private let holdLimit: HoldLimit?
    private let logger: Logger
    fileprivate let calls = Mutex<[CallKey: HeldCall]>([:])
    private let stopping = Atomic<Bool>(false)

    /// Opens the bottle's queue, recovers it after a crash or restart (a
    /// waiting marker becomes "stopped waiting": no call is attached yet)
    /// and starts watching decisions.
    public init(configuration: SidecarConfiguration, metrics: SidecarMetrics, logger: Logger) throws(QueueError) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        queue = BottleQueue(directory: configuration.queueDirectory, bottle: configuration.bottle)
        try queue.prepare()
        _ = try queue.recover(clearWaitingMarkers: true)
        waiter = try DecisionWaiter(queue: queue)
        holdLimit = configuration.holdLimit.map(HoldLimit.init(limit:))
    }

    /// The number of calls held right now.
    public var heldCount: Int { calls.withLock { $0.count } }

    /// Reads a `tools/call` and finds, or submits, its proposal.
    ///
    /// An identical call (same tool, byte-identical file) finds its earlier
    /// proposal *first*, pending or decided, before any validation or no-op
    /// check: the retry of a call whose client timed out must get the
    /// operator's decision even when that decision made the file current.
    /// Only a new proposal is validated; its problems come back as
    /// ``Admission/invalid(_:)``.
    public func admit(_ params: JSONValue, key: CallKey) async throws(RPCError) -> Admission {
        if stopping.load(ordering: .relaxed) { throw .restarting }
        if ToolCallRequest.toolName(params) == ProposalStatusTool.name { return try status(params, key: key) }
        let request: ToolCallRequest
        do throws(ToolCallRequest.Problem) {
            request = try ToolCallRequest(params)
        } catch {
            switch error {
            case .invalidInput(let message): return .invalid(message)
            case .protocolError(let error): throw error
            }
        }
        let current = configuration.currentFile(request.tool.configFile)
        do {
            if let earlier = try queue.identical(
                tool: request.tool, proposedFile: request.proposedFile, currentFileSHA256: current.map(SHA256Hex.of))
            {
                return attach(earlier, key: key, retry: true)
            }
        } catch {
            logger.error("could not look up earlier proposals", metadata: ["error": "\(error)"])
            throw .internalError("the sidecar could not read its queue: \(error.description)")
        }
        do {
            try ProposedFileValidator.validate(request.proposedFile, for: request.tool, current: current)
        } catch {
            return .invalid(error.description)
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
        if case .queued(let proposal) = submission {
            logger.info(
                "queued proposal",
                metadata: [
                    "proposal": "\(proposal.id)", "tool": "\(proposal.tool.rawValue)", "bottle": "\(proposal.bottle)",
                ])
        }
        return attach(submission, key: key, retry: false)
    }

    /// `proposal-status`: the decision on a proposal this bottle made, at once
    /// when there is one, else a hold (up to the limit) like the original call.
    public func status(_ params: JSONValue, key: CallKey) throws(RPCError) -> Admission {
        let id: ProposalID
        switch ProposalStatusTool.proposalID(in: params) {
        case .success(let value): id = value
        case .failure(.invalidInput(let message)): return .invalid(message)
        case .failure(.protocolError(let error)): throw error
        }
        return try follow(id, key: key, bounded: true)
    }

    /// The decision on proposal `id` at once when there is one, else a hold
    /// (up to the hold limit when `bounded`); an unknown id is ``Admission/invalid(_:)``.
    public func follow(_ id: ProposalID, key: CallKey, bounded: Bool) throws(RPCError) -> Admission {
        let proposal: Proposal
        let decision: Decision?
        do {
            proposal = try queue.proposal(id)
            decision = try queue.decision(id)
        } catch .noSuchProposal {
            return .invalid(ProposalStatusTool.unknown(id))
        } catch {
            throw .internalError("the sidecar could not read proposal \(id): \(error.description)")
        }
        if let decision {
            return attach(.decided(proposal, decision), key: key, retry: true, bounded: bounded)
        }
        return attach(.attached(proposal), key: key, retry: true, bounded: bounded)
    }

    /// Lets go of a call that will not be held (a task-augmented call: the
    /// client polls instead), so the queue does not show an agent waiting.
    public func detach(_ call: HeldCall) {
        try? queue.setWaiting(call.proposal.id, false)
    }

    private func attach(_ submission: Submission, key: CallKey, retry: Bool, bounded: Bool = true) -> Admission {
        switch submission {
        case .decided(let proposal, let decision) where decision.isFinal:
            logger.info(
                "answered with its decision",
                metadata: ["proposal": "\(proposal.id)", "status": "\(decision.status.rawValue)"])
            metrics.decision(decision.status)
            return .answered(result: ToolAnswer.result(for: decision, of: proposal), proposal: proposal)
        case .queued(let proposal), .attached(let proposal), .decided(let proposal, _):
            // A queued proposal is live; one found in the archive is decided (and final) above.
            if retry { logger.info("re-attached to proposal", metadata: ["proposal": "\(proposal.id)"]) }
            try? queue.setWaiting(proposal.id, true)
            queue.clearStoppedWaiting(proposal.id)
            return .held(HeldCall(proposal: proposal, key: key, bounded: bounded))
        }
    }

    /// Holds `call` until its decision, the hold limit or an interrupt, then
    /// calls `then` with how it ended (on whichever thread noticed; `then`
    /// must not block).
    ///
    /// Nothing but a closure waits (the hold limit is one shared deadline
    /// queue, ``HoldLimit``), so 10,000 held calls cost their proposals, a
    /// dictionary entry and a deadline entry each.
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
                    stoppedWaiting(id, except: call)
                    logger.info("call cancelled; proposal stays decidable", metadata: ["proposal": "\(id)"])
                    then(.cancelled(proposal: call.proposal))
                case .holdLimit:
                    stoppedWaiting(id, except: call)
                    then(.pending(result: ToolAnswer.pending(call.proposal), proposal: call.proposal))
                case .restarting:
                    stoppedWaiting(id, except: call)
                    then(.restarting)
                case .disconnected, nil:
                    if !(error is CancellationError) {
                        logger.error(
                            "waiting for a decision failed", metadata: ["proposal": "\(id)", "error": "\(error)"])
                        stoppedWaiting(id, except: call)
                        then(.failed(.internalError("the sidecar could not read the decision: \(error)")))
                        return
                    }
                    stoppedWaiting(id, except: call)
                    logger.info("held call dropped; proposal stays pending", metadata: ["proposal": "\(id)"])
                    then(.disconnected)
                }
            }
        }
        call.attach(cancel)
        if call.bounded { holdLimit?.start(call) }
    }

    /// Holds `call` until its decision or an interrupt (``hold(_:then:)`` for a task).
    public func wait(_ call: HeldCall) async -> Outcome {
        await withCheckedContinuation { continuation in
            hold(call) { continuation.resume(returning: $0) }
        }
    }

    /// Archives a proposal whose decision reached the agent: it was written
    /// to a connection that then completed.
    public func delivered(_ proposal: Proposal) async {
        do {
            try await queue.archive(proposal)
        } catch {
            logger.error("could not archive proposal", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
        }
    }

    /// A decision that could not be written (the connection was gone): it
    /// stays live for the agent's next ask, and the queue shows that the
    /// agent stopped waiting.
    public func undelivered(_ proposal: Proposal) {
        stoppedWaiting(proposal.id, except: nil)
    }

    /// Handles `notifications/cancelled` for `key` (or a response stream the
    /// client closed): the held call ends, and its proposal stays decidable.
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

    /// Removes `id`'s waiting marker and records when the agent stopped
    /// waiting, unless another call (a retry that arrived before this one's
    /// end was noticed) still waits on it.
    private func stoppedWaiting(_ id: ProposalID, except call: HeldCall?) {
        let othersWaiting = calls.withLock { calls in
            calls.values.contains { $0 !== call && $0.proposal.id == id }
        }
        guard !othersWaiting, queue.isLive(id) else { return }
        try? queue.setWaiting(id, false)
        do { try queue.markStoppedWaiting(id) } catch {
            logger.error("could not record that the agent stopped waiting", metadata: ["proposal": "\(id)"])
        }
    }
}

extension CallHolder {
    /// Ends every held call as dropped (stdin closed): proposals stay pending.
    public func shutdownForDisconnect() {
        let held = calls.withLock { Array($0.values) }
        for call in held { call.interrupt(.disconnected) }
    }
}
