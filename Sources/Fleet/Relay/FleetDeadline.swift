import Synchronization

/// A bound on how long a step may wait for the fleet's database.
///
/// postgres-nio queues a query until its pool has a connection, and keeps
/// trying to connect to a database that is down: a query then waits for as
/// long as the outage lasts, and a query on a connection whose server died
/// may not even notice cancellation. A relay must instead notice the outage
/// (say so, back off, let the host work alone) and a command must say the
/// database is unreachable rather than hang; so each step that talks to the
/// database runs within a deadline, and a step that misses it is an outage
/// (``FleetStoreError/unavailable(_:)``). The step is cancelled and left to
/// end on its own: the caller does not wait for it (a task group would).
public enum FleetDeadline {
    /// Runs `body`, failing with ``FleetStoreError/unavailable(_:)`` when it takes longer than `limit`.
    /// - Parameter doing: what the step does, for the message ("mirroring host a").
    @discardableResult
    public static func within<Result: Sendable>(
        _ limit: Duration, doing: String, _ body: @Sendable @escaping () async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    work.cancel()
                    race.finish(
                        .failure(FleetStoreError.unavailable("no answer from the fleet database within \(limit) while \(doing)")))
                }
                race.onFinish { work.cancel(); timer.cancel() }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The first outcome wins; the continuation is resumed exactly once.
    private final class Race<Result: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result, any Error>?
            var outcome: Swift.Result<Result, any Error>?
            var cleanup: (@Sendable () -> Void)?
        }
        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Result, any Error>) {
            let early = state.withLock { state -> Swift.Result<Result, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
            let done = state.withLock { state -> Bool in
                if state.outcome != nil { return true }
                state.cleanup = cleanup
                return false
            }
            if done { cleanup() }
        }

        func finish(_ outcome: Swift.Result<Result, any Error>) {
            let (continuation, cleanup) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, (@Sendable () -> Void)?) in
                guard state.outcome == nil else { return (nil, nil) }
                state.outcome = outcome
                defer {
                    state.continuation = nil
                    state.cleanup = nil
                }
                return (state.continuation, state.cleanup)
            }
            continuation?.resume(with: outcome)
            cleanup?()
        }
    }
}
