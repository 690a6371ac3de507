import FileAccess
import Foundation
import Queue
import SystemPackage

/// Runs one container-engine command for a ``ContainerReplacement`` and
/// waits for it: the seam the unit tests fill with a fake engine that records
/// each argument vector and answers from a script.
///
/// Blocking on purpose: a replacement is a strict sequence of engine calls,
/// and the crash recovery that finishes an interrupted one runs from
/// synchronous host commands (`list`, `show`…) before they read the queue.
public protocol EngineCommandRunner: Sendable {
    /// Runs `argv` (program first, found through `PATH`) within `timeout`.
    /// With `keepOutput`, standard output comes back whole (bounded) in
    /// ``ReloadRun/standardOutput`` — `inspect`'s JSON, `create`'s new id.
    func run(_ argv: [String], timeout: Duration, keepOutput: Bool) -> ReloadRun

    /// The text of host process `pid`'s `/proc/<pid>/<name>` (`status`: which
    /// uid and gid a container's process really runs as; `uid_map`, `gid_map`:
    /// its user namespace's mapping); `nil` when it cannot be read.
    func processFile(pid: Int64, _ name: String) -> String?
}

extension EngineCommandRunner {
    public func processFile(pid: Int64, _ name: String) -> String? {
        guard let data = try? AtomicFile.read(FilePath("/proc/\(pid)/\(name)"), limit: 64 << 10) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The real engine: each command a process, run as reload commands are (no
/// shell, own process group, killed at its timeout).
public struct ProcessEngineRunner: EngineCommandRunner {
    /// The most of a command's standard output kept: `inspect` of one
    /// container is about 12 KiB; an output larger than this is refused, not cut.
    public static let outputLimit = 4 << 20

    public init() {}

    public func run(_ argv: [String], timeout: Duration, keepOutput: Bool) -> ReloadRun {
        ReloadRunner.runBlocking(
            argv, timeout: timeout, standardOutputLimit: keepOutput ? ProcessEngineRunner.outputLimit : nil)
    }
}

/// The time source of a replacement's waits (the new container must stay
/// up for a while; polls are spaced): real time in use, a manual clock in
/// tests so a "30-second" wait takes no time.
public protocol ReplacementClock: Sendable {
    /// Time since an arbitrary fixed origin.
    var now: Duration { get }
    /// Blocks the calling thread for `duration`.
    func sleep(for duration: Duration)
}

/// The monotonic clock of the machine.
public struct SystemReplacementClock: ReplacementClock {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        if microseconds > 0 { usleep(useconds_t(min(microseconds, Int64(UInt32.max)))) }
    }
}
