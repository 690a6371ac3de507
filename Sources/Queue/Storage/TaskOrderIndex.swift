import FoundationEssentials
import Synchronization

/// Every proposal of a queue directory, live and archived, in the order
/// `tasks/list` pages through them (oldest first, then by id), held in the
/// sidecar's memory so that a page costs the reads of its own proposals, not
/// a scan of the archive.
///
/// Before it, every `tasks/list` page read every file of the archive (4.7 s
/// per page at 1,000 archived proposals, with other file-touching requests
/// waiting behind it). Now the files are read once, at the first page after
/// the sidecar starts, and every proposal the sidecar queues afterwards is
/// added as it is written (``BottleQueue/submit(_:)``); archiving moves a file
/// but changes nothing here. A proposal whose file later vanishes or cannot
/// be read is skipped by the page that meets it.
final class TaskOrderIndex: Sendable {
    struct Position: Comparable, Sendable {
        let createdAt: Date
        let id: ProposalID
        static func < (lhs: Position, rhs: Position) -> Bool {
            (lhs.createdAt, lhs.id.rawValue) < (rhs.createdAt, rhs.id.rawValue)
        }
    }

    private struct Directory {
        var order: [Position] = []
        var createdAt: [ProposalID: Date] = [:]
    }

    /// The process's index, per queue directory.
    static let shared = TaskOrderIndex()

    private let directories = Mutex<[String: Directory]>([:])

    /// Whether `directory`'s proposals have been read into the index.
    func isLoaded(_ directory: String) -> Bool {
        directories.withLock { $0[directory] != nil }
    }

    /// Records the proposals read from `directory`; ones added meanwhile stay.
    func load(_ directory: String, _ positions: [Position]) {
        directories.withLock { directories in
            var entry = directories[directory] ?? Directory()
            for position in positions where entry.createdAt[position.id] == nil {
                entry.createdAt[position.id] = position.createdAt
                entry.order.append(position)
            }
            entry.order.sort()
            directories[directory] = entry
        }
    }

    /// Adds a proposal just queued in `directory`, if the index is loaded
    /// (else the load will read it).
    func insert(_ directory: String, _ position: Position) {
        directories.withLock { directories in
            guard var entry = directories[directory], entry.createdAt[position.id] == nil else { return }
            entry.createdAt[position.id] = position.createdAt
            // Almost always the newest: appended; otherwise put in its place.
            if let last = entry.order.last, position < last {
                entry.order.insert(position, at: entry.order.partitioningIndex { position < $0 })
            } else {
                entry.order.append(position)
            }
            directories[directory] = entry
        }
    }

    /// Up to `limit` ids after `cursor` (from the start when `nil`), and
    /// whether more follow; `nil` when `cursor` is not an id of the index.
    func page(_ directory: String, after cursor: ProposalID?, limit: Int) -> (ids: [ProposalID], more: Bool)? {
        directories.withLock { directories in
            let entry = directories[directory] ?? Directory()
            var start = 0
            if let cursor {
                guard let createdAt = entry.createdAt[cursor] else { return nil }
                start = entry.order.partitioningIndex { Position(createdAt: createdAt, id: cursor) < $0 }
            }
            let end = min(entry.order.count, start + limit)
            return (entry.order[start..<end].map(\.id), end < entry.order.count)
        }
    }

    /// Forgets `directory`, as a restart would (for tests).
    func forget(_ directory: String) {
        directories.withLock { _ = $0.removeValue(forKey: directory) }
    }
}

extension Array {
    /// The first index whose element satisfies `belongsAfter`, for an array
    /// partitioned by it (all `false`, then all `true`): a binary search.
    func partitioningIndex(where belongsAfter: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
