import FoundationEssentials
import Synchronization
import SystemPackage

/// Waits for decisions in one bottle's queue: the sidecar holds one, and
/// every held call waits through it.
///
/// One ``DirectoryWatcher`` serves any number of waiting calls: a change to
/// `<id>.decision.json` wakes only the calls waiting on `id`, so 10,000 held
/// calls cost one inotify watch and a dictionary, not 10,000 pollers. A
/// decision reaches its caller within milliseconds of the rename that wrote
/// it; where inotify is unavailable, within one poll interval.
public final class DecisionWaiter: Sendable {
    /// The queue whose decisions are awaited.
    public let queue: BottleQueue

    /// What to call with a decision (or the error that ended the wait).
    public typealias Handler = @Sendable (Result<Decision, any Error>) -> Void

    private let waiters = Mutex([ProposalID: [UInt64: Handler]]())
    private let nextToken = Atomic<UInt64>(0)
    private let watcher: Mutex<DirectoryWatcher?> = Mutex(nil)

    /// A waiter over `queue`'s directory (created if missing).
    /// - Parameters:
    ///   - pollInterval: the fallback poll interval where inotify is unavailable.
    ///   - useInotify: `false` forces polling (tests of the fallback use it).
    public init(
        queue: BottleQueue, pollInterval: Duration = .milliseconds(250), useInotify: Bool = true
    ) throws(QueueError) {
        self.queue = queue
        try queue.prepare()
        let watcher = DirectoryWatcher(pollInterval: pollInterval, useInotify: useInotify) {
            [weak self] change in
            self?.handle(change)
        }
        watcher.watch(queue.directory)
        watcher.watch(queue.archiveDirectory)
        self.watcher.withLock { $0 = watcher }
    }

    deinit {
        watcher.withLock { $0?.stop() }
    }

    /// Whether decisions arrive by inotify (`false`: by polling).
    public var isEventDriven: Bool { watcher.withLock { $0?.isEventDriven ?? false } }

    /// The number of calls waiting right now.
    public var waitingCount: Int { waiters.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Returns `id`'s decision once it is final (see ``Decision/isFinal``).
    ///
    /// Cancelling the calling task ends the wait with `CancellationError`;
    /// the proposal itself is untouched (a dropped connection is not a
    /// withdrawal). A decision file that cannot be read ends the wait with
    /// that error, never with an approval.
    public func decision(for id: ProposalID) async throws -> Decision {
        let cancel = Mutex<(@Sendable () -> Void)?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let end = onDecision(for: id) { continuation.resume(with: $0) }
                cancel.withLock { $0 = end }
                if Task.isCancelled { end() }
            }
        } onCancel: {
            cancel.withLock { $0 }?()
        }
    }

    /// Calls `handler` once with `id`'s decision when it is final, or with
    /// the error that ended the wait; the returned closure ends the wait
    /// early (`CancellationError`).
    ///
    /// This is how a held call waits: a closure in a dictionary, where an
    /// `await` would keep a task and its frames alive — about 7 KB a call,
    /// 70 MB for 10,000 held calls. The handler runs on the thread that
    /// found the decision (the watcher's, or the caller's if it was
    /// already there): it must not block.
    @discardableResult
    public func onDecision(for id: ProposalID, _ handler: @escaping Handler) -> @Sendable () -> Void {
        let token = nextToken.add(1, ordering: .relaxed).newValue
        waiters.withLock { $0[id, default: [:]][token] = handler }
        // Registered first, checked second: a decision written just before
        // registration is found here, one written after is announced by the watcher.
        check(id)
        return { [weak self] in self?.resume(id, token: token, with: .failure(CancellationError())) }
    }

    private func handle(_ change: DirectoryWatcher.Change) {
        switch change {
        case .name(_, let name):
            if let id = QueueLayout.id(in: name, suffix: QueueLayout.decisionSuffix) { check(id) }
        case .rescan:
            for id in waiters.withLock({ Array($0.keys) }) { check(id) }
        }
    }

    private func check(_ id: ProposalID) {
        guard waiters.withLock({ $0[id] != nil }) else { return }
        do {
            guard let decision = try queue.decision(id), decision.isFinal else { return }
            resumeAll(id, with: .success(decision))
        } catch {
            resumeAll(id, with: .failure(error))
        }
    }

    private func resumeAll(_ id: ProposalID, with result: Result<Decision, any Error>) {
        let handlers = waiters.withLock { $0.removeValue(forKey: id) } ?? [:]
        for handler in handlers.values { handler(result) }
    }

    private func resume(_ id: ProposalID, token: UInt64, with result: Result<Decision, any Error>) {
        let handler = waiters.withLock { waiters -> Handler? in
            let removed = waiters[id]?.removeValue(forKey: token)
            if waiters[id]?.isEmpty == true { waiters[id] = nil }
            return removed
        }
        handler?(result)
    }
}
