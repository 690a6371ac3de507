import Synchronization

/// Ends held calls when `--hold-limit` passes, with one sleeping task for
/// all of them.
///
/// A task per held call would keep a task and its frames alive — about
/// 7 KB a call, 70 MB for 10,000 (docs/performance.md) — where the rest of
/// a held call costs a closure. Every call gets the same limit, so
/// deadlines arrive in the order calls are held: a FIFO of (deadline, call)
/// and one task that sleeps until the oldest deadline is all it takes.
/// An entry whose call already ended is interrupted harmlessly (the first
/// reason wins, and its wait is already over).
final class HoldLimit: Sendable {
    /// How long one call is held.
    let limit: Duration
    private struct State {
        var entries: [(deadline: ContinuousClock.Instant, call: HeldCall)] = []
        var head = 0
        var draining = false
    }
    private let state = Mutex(State())

    init(limit: Duration) {
        self.limit = limit
    }

    /// Interrupts `call` with ``HeldCall/Interrupt/holdLimit`` once the limit has passed.
    func start(_ call: HeldCall) {
        let deadline = ContinuousClock.now + limit
        let startDrain = state.withLock { state -> Bool in
            state.entries.append((deadline, call))
            if state.draining { return false }
            state.draining = true
            return true
        }
        if startDrain { Task { await drain() } }
    }

    /// How many calls still have a deadline pending (for tests).
    var pendingCount: Int { state.withLock { $0.entries.count - $0.head } }

    private func drain() async {
        while true {
            let now = ContinuousClock.now
            let (due, next) = state.withLock { state -> ([HeldCall], ContinuousClock.Instant?) in
                var due: [HeldCall] = []
                while state.head < state.entries.count, state.entries[state.head].deadline <= now {
                    due.append(state.entries[state.head].call)
                    state.head += 1
                }
                if state.head > 1024, state.head * 2 > state.entries.count {
                    state.entries.removeFirst(state.head)
                    state.head = 0
                }
                guard state.head < state.entries.count else {
                    state.entries.removeAll(keepingCapacity: false)
                    state.head = 0
                    state.draining = false
                    return (due, nil)
                }
                return (due, state.entries[state.head].deadline)
            }
            for call in due { call.interrupt(.holdLimit) }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }
}
