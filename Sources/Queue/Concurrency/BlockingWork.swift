/// Blocking work — a child process waited for, a `flock` that waits for
/// another holder — run on a thread of its own while the calling task is
/// suspended: the one way the project's async code blocks (docs/concurrency.md).
///
/// Why not call it from the task: Swift's cooperative pool has one thread per
/// core, and a task blocked in a system call holds its thread until the call
/// returns. An apply that runs `podman build` for minutes, or waits on another
/// operator's lock, would take one of the two threads of a small host away
/// from everything else in the process — the web console's requests and
/// event streams, the queue watcher's stream, the standing rules.
/// Why not `DispatchQueue.global()`: Dispatch's worker threads are shared with
/// `concurrentPerform` (the listing and the risk hints), and work that waits
/// for minutes there is a thread those loops cannot use. A thread of our own
/// costs a few tens of microseconds to start, nothing beside the process or
/// the lock it waits for, and ends with the work.
///
/// Not for short CPU work (run it in the task) nor for a reader that lives as
/// long as the process (`DirectoryWatcher`, the TUI's `InputReader` and the
/// stdio transport's stdin reader own their threads).
/// Cancelling the calling task does not interrupt `work`: the task waits for
/// it to end, so `work` must bound itself (a timeout, a kill, a lock holder
/// that finishes).
public enum BlockingWork {
    /// Runs `work` on a new thread named `name` (what `top -H` and a debugger
    /// show) and returns its result.
    public static func run<Result: Sendable>(
        _ name: String, _ work: @escaping @Sendable () -> Result
    ) async -> Result {
        await withCheckedContinuation { continuation in
            NamedThread.start(name) { continuation.resume(returning: work()) }
        }
    }
}
