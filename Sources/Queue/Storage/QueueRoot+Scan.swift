import Dispatch
import Synchronization

/// Reading many bottles at once, for the readers that show every bottle
/// (`list`, the console's first screen and its periodic rescan).
extension QueueRoot {
    /// One bottle's scan: its entries, oldest first, and the errors of the
    /// files that could not be read (``BottleQueue/scan(archived:)``).
    public typealias BottleScan = (entries: [QueueEntry], unreadable: [QueueError])

    /// Scans `bottles`, live entries or archived ones, on every core:
    /// `DispatchQueue.concurrentPerform` runs one bottle per iteration on
    /// the system's worker threads (as many as there are cores) and returns
    /// when all are done. At a thousand bottles, opening, reading and
    /// decoding their files is what stands between the command and its
    /// output, and each bottle's directory is independent of the others.
    ///
    /// - Returns: one result per bottle, in the order given; a bottle whose
    ///   directory cannot be listed is that error.
    public func scan(_ bottles: [BottleSlug], archived: Bool) -> [Result<BottleScan, QueueError>] {
        let results = Mutex([Result<BottleScan, QueueError>?](repeating: nil, count: bottles.count))
        DispatchQueue.concurrentPerform(iterations: bottles.count) { index in
            let result: Result<BottleScan, QueueError>
            do throws(QueueError) {
                result = .success(try queue(for: bottles[index]).scan(archived: archived))
            } catch {
                result = .failure(error)
            }
            results.withLock { $0[index] = result }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// The approvals still applying in each of `bottles`
    /// (``BottleQueue/applyingEntries()``), looked for on every core: every
    /// host command looks before it starts, and it costs a directory listing
    /// per bottle. A bottle whose files cannot be read has none here (`list`
    /// and the console name those files).
    public func applyingEntries(of bottles: [BottleSlug]) -> [[QueueEntry]] {
        let results = Mutex([[QueueEntry]](repeating: [], count: bottles.count))
        DispatchQueue.concurrentPerform(iterations: bottles.count) { index in
            let found = (try? queue(for: bottles[index]).applyingEntries()) ?? []
            if !found.isEmpty { results.withLock { $0[index] = found } }
        }
        return results.withLock { $0 }
    }
}
