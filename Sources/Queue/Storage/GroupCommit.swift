import Dispatch
import FileAccess
import FoundationEssentials
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Durable queue writes from many callers at once, at one journal commit per
/// batch instead of one per write.
///
/// A durable write (``AtomicFile``) costs two fsyncs, each a journal commit:
/// about a millisecond on a quiet disk, tens on a busy one. When 10,000
/// agents call at once, the sidecar would queue 10,000 of them one after the
/// other and the last agent would wait half a minute to be queued. Here
/// callers hand their steps to one flusher thread, which takes everything
/// waiting (up to ``maximumBatch``), writes all new files, makes their data
/// durable (an fsync each for a small batch; one `syncfs` for a burst, see
/// ``wholeFileSystemSyncThreshold``), names them in order and fsyncs each
/// directory once. Each caller gets the same guarantee as
/// ``AtomicFile/create(_:at:mode:)``: when its `commit` returns, its
/// files are on disk whole, and no reader ever saw part of one. A lone write
/// costs what it did before; the batching only appears under load.
///
/// The flusher runs on a serial dispatch queue while work is waiting, so a
/// blocking fsync never holds a Swift concurrency thread (there are as many
/// of those as cores).
public final class GroupCommit: Sendable {
    /// One step of a caller's commit; a caller's steps run in order.
    public enum Step: Sendable {
        /// Create the file at `at` with the data; fails with `EEXIST` if the name is taken.
        case create(Data, at: FilePath)
        /// Rename a file, for instance into the archive.
        case move(FilePath, to: FilePath)
    }

    /// The process's flusher: one for every queue the process writes.
    public static let shared = GroupCommit()

    /// The most callers one batch serves: each holds an open unnamed file
    /// until the batch's links, and the process's file descriptors are
    /// mostly connections.
    public static let maximumBatch = 512

    private typealias Completion = CheckedContinuation<Result<Void, QueueError>, Never>
    private struct Request: Sendable {
        var steps: [Step]
        var completion: Completion
    }

    private let state = Mutex<(waiting: [Request], flushing: Bool)>(([], false))
    /// Where flushes run: a serial dispatch queue, whose thread is not one of
    /// Swift concurrency's (a blocking fsync there would stall the sidecar).
    private static let flusher = DispatchQueue(label: "queue-group-commit")

    /// A flusher; most code uses ``shared``.
    public init() {}

    /// Performs `steps` in order and returns once they are durable.
    /// - Throws: the first step's failure; the steps before it stay done.
    public func commit(_ steps: [Step]) async throws(QueueError) {
        let result = await withCheckedContinuation { (completion: Completion) in
            let startFlusher = state.withLock { state -> Bool in
                state.waiting.append(Request(steps: steps, completion: completion))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if startFlusher { Self.flusher.async { [self] in flushUntilIdle() } }
        }
        try result.get()
    }

    private func flushUntilIdle() {
        while true {
            let batch = state.withLock { state -> [Request] in
                let batch = Array(state.waiting.prefix(Self.maximumBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            let results = Self.perform(batch.map(\.steps))
            for (request, result) in zip(batch, results) { request.completion.resume(returning: result) }
        }
    }

    /// From this many new files in one batch on, their data is made durable
    /// with one `syncfs` rather than an fsync each. syncfs also writes out
    /// whatever else is dirty on that file system, so it is kept for bursts,
    /// where it replaces hundreds of disk cache flushes with one.
    static let wholeFileSystemSyncThreshold = 32

    /// Runs every caller's steps; one result per caller.
    static func perform(_ commits: [[Step]]) -> [Result<Void, QueueError>] {
        var results = [Result<Void, QueueError>](repeating: .success(()), count: commits.count)
        // 1. Every new content into an unnamed (or temp) file beside its final name, unsynced.
        var staged = [[AtomicFile.Staged?]](repeating: [], count: commits.count)
        for (index, steps) in commits.enumerated() {
            for step in steps {
                do throws(FileAccessError) {
                    switch step {
                    case .create(let data, let path):
                        staged[index].append(try AtomicFile.stage(data, beside: path, mode: 0o644))
                    case .move:
                        staged[index].append(nil)
                    }
                } catch {
                    results[index] = .failure(QueueError(error))
                    break
                }
            }
        }
        // 2. Their data on disk. A few files: fsync each (the first commits the
        // journal for all; each still costs the disk a cache flush). Many: one
        // syncfs per directory's file system instead of that many flushes.
        let stagedCount = staged.reduce(0) { $0 + $1.count { $0 != nil } }
        if stagedCount < wholeFileSystemSyncThreshold || !syncFileSystems(of: commits, results: &results) {
            for (index, files) in staged.enumerated() {
                for case let file? in files where results[index].isSuccess {
                    do throws(FileAccessError) { try AtomicFile.sync(file) } catch {
                        results[index] = .failure(QueueError(error))
                    }
                }
            }
        }
        // 3. Each caller's links and renames, in its order; a failed caller's staged files go.
        var directories: [FilePath: [Int]] = [:]
        for (index, steps) in commits.enumerated() {
            for (position, step) in steps.enumerated() {
                let file = position < staged[index].count ? staged[index][position] : nil
                guard results[index].isSuccess else {
                    if let file { AtomicFile.discard(file) }
                    continue
                }
                switch step {
                case .create(_, let path):
                    guard let file else { continue }
                    do throws(FileAccessError) {
                        if try AtomicFile.link(file, exclusivelyAt: path) {
                            directories[path.removingLastComponent(), default: []].append(index)
                        } else {
                            results[index] = .failure(.io(operation: "create", path: path.string, errno: EEXIST))
                        }
                    } catch {
                        results[index] = .failure(QueueError(error))
                    }
                case .move(let source, let destination):
                    if rename(source.string, destination.string) != 0 {
                        results[index] = .failure(.io(operation: "move", path: source.string, errno: errno))
                    } else {
                        directories[destination.removingLastComponent(), default: []].append(index)
                        directories[source.removingLastComponent(), default: []].append(index)
                    }
                }
            }
        }
        // 4. The new names on disk: each directory once.
        for (directory, callers) in directories {
            do throws(FileAccessError) { try AtomicFile.syncDirectory(directory) } catch {
                for index in callers where results[index].isSuccess { results[index] = .failure(QueueError(error)) }
            }
        }
        return results
    }

    /// One syncfs for the file system of each directory the batch creates
    /// files in; a failure fails the callers writing there.
    /// - Returns: `false` where there is no syncfs (the caller fsyncs each file).
    private static func syncFileSystems(of commits: [[Step]], results: inout [Result<Void, QueueError>]) -> Bool {
        var callers: [FilePath: [Int]] = [:]
        for (index, steps) in commits.enumerated() where results[index].isSuccess {
            for case .create(_, let path) in steps {
                callers[path.removingLastComponent(), default: []].append(index)
            }
        }
        for (directory, indices) in callers {
            do throws(FileAccessError) {
                guard try AtomicFile.syncFileSystem(of: directory) else { return false }
            } catch {
                for index in indices where results[index].isSuccess { results[index] = .failure(QueueError(error)) }
            }
        }
        return true
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
