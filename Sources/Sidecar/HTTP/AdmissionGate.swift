import NIOCore
import Synchronization

/// Admits at most `limit` tool calls at once; the rest wait their turn.
///
/// Admitting a call (validate, write the proposal durably, mark it waiting)
/// runs in a task, and the disk sets the pace: when 10,000 agents call at
/// once, 10,000 tasks would sit on the group commit with their frames and
/// parsed requests — tens of megabytes that the allocator keeps once freed.
/// Waiting here costs a closure in a ring buffer instead, and the group
/// commit still sees batches of up to `limit`.
final class AdmissionGate: Sendable {
    typealias Work = @Sendable () async -> Void

    private let limit: Int
    private let state: Mutex<(running: Int, waiting: CircularBuffer<Work>)>

    init(limit: Int) {
        self.limit = limit
        state = Mutex((0, CircularBuffer(initialCapacity: 64)))
    }

    /// Runs `work` in a task now, or once an earlier admission has finished.
    func run(_ work: @escaping Work) {
        let now = state.withLock { state -> Bool in
            guard state.running < limit else {
                state.waiting.append(work)
                return false
            }
            state.running += 1
            return true
        }
        if now { launch(work) }
    }

    private func launch(_ work: @escaping Work) {
        Task {
            await work()
            let next = state.withLock { state -> Work? in
                guard let next = state.waiting.popFirst() else {
                    state.running -= 1
                    return nil
                }
                return next
            }
            if let next { launch(next) }
        }
    }
}
