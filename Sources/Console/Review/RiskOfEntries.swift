import Apply
import Dispatch
import Queue
import Risk
import Synchronization

/// Risk hints of listed proposals, against each bottle's current file (read
/// once per bottle and file, however many proposals it has): what `list`
/// and the web console's list show.
///
/// The hints are pure functions of two files (``RiskHints``), so they are
/// computed on every core: `list` at a thousand bottles assesses ten
/// thousand proposals, and each parses its proposed file and the bottle's
/// current one.
public struct RiskOfEntries: Sendable {
    public let configRoot: ConfigRoot

    public init(configRoot: ConfigRoot) {
        self.configRoot = configRoot
    }

    /// How many entries one worker takes at a time: enough to make the
    /// hand-over cheap next to the work, few enough to share it evenly.
    private static let batch = 64

    /// The hints of each entry, in order.
    public func hints(for entries: [QueueEntry]) -> [[RiskHint]] {
        let currentFiles = self.currentFiles(of: entries)
        let results = Mutex([[RiskHint]](repeating: [], count: entries.count))
        let batches = (entries.count + Self.batch - 1) / Self.batch
        DispatchQueue.concurrentPerform(iterations: batches) { batch in
            let range = batch * Self.batch..<min(entries.count, (batch + 1) * Self.batch)
            let hints = range.map { index in
                let proposal = entries[index].proposal
                return RiskHints.assess(
                    tool: proposal.tool, proposed: proposal.proposedFile,
                    current: currentFiles[Key(proposal)] ?? nil)
            }
            results.withLock { $0.replaceSubrange(range, with: hints) }
        }
        return results.withLock { $0 }
    }

    /// A bottle's file that proposals are assessed against.
    private struct Key: Hashable {
        let bottle: BottleSlug
        let file: ConfigFile

        init(_ proposal: Proposal) {
            bottle = proposal.bottle
            file = proposal.tool.configFile
        }
    }

    /// The current file of every (bottle, file) the entries propose to
    /// replace, read once each, in parallel; `nil` where there is none.
    private func currentFiles(of entries: [QueueEntry]) -> [Key: String?] {
        let keys = Array(Set(entries.map { Key($0.proposal) }))
        let files = Mutex([Key: String?](minimumCapacity: keys.count))
        DispatchQueue.concurrentPerform(iterations: keys.count) { index in
            let key = keys[index]
            let current = try? configRoot.current(key.file, for: key.bottle)
            files.withLock { $0[key] = .some(current) }
        }
        return files.withLock { $0 }
    }
}
