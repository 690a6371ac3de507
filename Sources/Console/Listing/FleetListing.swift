import Apply
import Dispatch
import Foundation
import Queue
import Synchronization

/// The pending proposals of every bottle as `list` shows them, with their
/// risk hints, reading only the files the ``ListingCache`` has no record of.
///
/// Per bottle: one directory listing and one `fstatat` per pending
/// proposal (``BottleQueue/pendingNames()``), one `stat` per current file
/// its proposals replace; a proposal whose record matches both versions is
/// not opened. Every other proposal goes through the same guarded read,
/// decode and checks as without a cache (``BottleQueue/listedVersion(_:)``),
/// and its hints are computed from the bytes read. Bottles are listed on
/// every core, each by one worker, which also parses its bottle's records.
public struct FleetListing: Sendable {
    public let queueRoot: QueueRoot
    public let configRoot: ConfigRoot
    public let cache: ListingCache

    public init(queueRoot: QueueRoot, configRoot: ConfigRoot, cache: ListingCache) {
        self.queueRoot = queueRoot
        self.configRoot = configRoot
        self.cache = cache
    }

    /// What a listing found.
    public struct Result: Sendable {
        /// Pending proposals, oldest first.
        public var rows: [ListedProposal] = []
        /// Files that could not be read, and bottles that could not be listed.
        public var unreadable: [QueueError] = []
        /// The records for the next listing, by bottle: every record used,
        /// and one for each file read whose versions were settled. Only
        /// when ``changed``: otherwise the cache already holds them.
        public var records: [BottleSlug: [ListingCache.Record]] = [:]
        /// How many proposal files were opened and read (the cache's misses).
        public var filesRead = 0
        /// Whether ``records`` differ from what the cache held.
        public var changed = false
    }

    /// Lists the pending proposals of `bottles`.
    /// - Parameter start: the wall clock before the first `stat`, in
    ///   nanoseconds since 1970 (``FileIdentity/now()``): a version is kept
    ///   only if it was settled by then. A parameter for the tests.
    public func pending(of bottles: [BottleSlug], start: Int64 = FileIdentity.now()) -> Result {
        let listed = Mutex([BottleResult?](repeating: nil, count: bottles.count))
        DispatchQueue.concurrentPerform(iterations: bottles.count) { index in
            let part = list(bottles[index], start: start)
            listed.withLock { $0[index] = part }
        }
        var result = Result()
        let parts = listed.withLock { $0 }.map { $0 ?? BottleResult() }
        // Sorted by key and place, then copied once: a row is a large value, and
        // comparing or moving ten thousand of them cost more than reading their records.
        var keys: [(createdAt: Date, id: ProposalID, part: Int, index: Int)] = []
        keys.reserveCapacity(parts.reduce(0) { $0 + $1.rows.count })
        for (number, part) in parts.enumerated() {
            for (index, row) in part.rows.enumerated() { keys.append((row.createdAt, row.id, number, index)) }
        }
        keys.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        result.rows = keys.map { parts[$0.part].rows[$0.index] }
        for part in parts {
            result.unreadable += part.unreadable
            result.filesRead += part.filesRead
            result.changed = result.changed || part.changed
        }
        // The records matter only when the file is rewritten.
        if result.changed {
            for (bottle, part) in zip(bottles, parts) {
                let records = part.hits.compactMap { part.known[$0] } + part.records
                if !records.isEmpty { result.records[bottle] = records }
            }
        }
        return result
    }

    private struct BottleResult {
        var rows: [ListedProposal] = []
        var unreadable: [QueueError] = []
        /// The cache's records of the bottle, and the ids of those used.
        var known: [ProposalID: ListingCache.Record] = [:]
        var hits: [ProposalID] = []
        /// Records of the files read.
        var records: [ListingCache.Record] = []
        var filesRead = 0
        var changed = false
    }

    private func list(_ bottle: BottleSlug, start: Int64) -> BottleResult {
        var part = BottleResult()
        let queue = queueRoot.queue(for: bottle)
        let names: [BottleQueue.PendingName]
        do throws(QueueError) {
            names = try queue.pendingNames()
        } catch {
            part.unreadable.append(error)
            return part
        }
        let known = cache.records(of: bottle)
        var currents = CurrentFiles(configRoot: configRoot, bottle: bottle)
        part.rows.reserveCapacity(names.count)
        for name in names {
            if let identity = name.identity, let record = known[name.id], record.identity == identity,
                record.current == currents.version(of: record.row.tool.configFile)
            {
                var row = record.row
                row.waiting = name.waiting
                row.stoppedWaitingAt = name.stoppedWaitingAt
                part.rows.append(row)
                part.hits.append(name.id)
                continue
            }
            part.changed = true
            part.filesRead += 1
            let read: (entry: QueueEntry, identity: FileIdentity)?
            do throws(QueueError) {
                read = try queue.listedVersion(name.id)
            } catch {
                part.unreadable.append(error)
                continue
            }
            // Gone (archived) or decided since the directory was listed: not pending.
            guard let read, read.entry.isPending else { continue }
            let proposal = read.entry.proposal
            let file = proposal.tool.configFile
            let current = currents.version(of: file)
            let row = ListedProposal(
                read.entry,
                riskHints: RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: currents.text(of: file)))
            part.rows.append(row)
            if let current, read.identity.isSettled(at: start), currents.isSettled(file, at: start) {
                part.records.append(.init(id: proposal.id, identity: read.identity, current: current, row: row))
            }
        }
        // A record not used is a proposal decided or gone: the file changes too.
        if part.hits.count != known.count { part.changed = true }
        part.known = known
        return part
    }

    /// A bottle's current files, each looked at once: its identity (a
    /// `stat`, taken before the read, so it never names newer bytes than
    /// those read) and, for a proposal that must be assessed, its text.
    private struct CurrentFiles {
        let configRoot: ConfigRoot
        let bottle: BottleSlug
        private var versions: [ConfigFile: ListingCache.CurrentFile?] = [:]
        private var texts: [ConfigFile: String?] = [:]

        init(configRoot: ConfigRoot, bottle: BottleSlug) {
            self.configRoot = configRoot
            self.bottle = bottle
        }

        /// `nil` when it cannot be told (a `stat` error other than "no such file"): nothing is cached against it.
        mutating func version(of file: ConfigFile) -> ListingCache.CurrentFile? {
            if let known = versions[file] { return known }
            let path = configRoot.path(of: file, for: bottle).string
            let version: ListingCache.CurrentFile?
            if let identity = FileIdentity.of(path: path) {
                version = .version(identity)
            } else {
                version = access(path, F_OK) != 0 && errno == ENOENT ? .absent : nil
            }
            versions[file] = .some(version)
            return version
        }

        mutating func text(of file: ConfigFile) -> String? {
            if let known = texts[file] { return known }
            _ = version(of: file)
            let text = try? configRoot.current(file, for: bottle)
            texts[file] = .some(text ?? nil)
            return text ?? nil
        }

        func isSettled(_ file: ConfigFile, at start: Int64) -> Bool {
            switch versions[file] {
            case .some(.some(.version(let identity))): identity.isSettled(at: start)
            case .some(.some(.absent)): true
            default: false
            }
        }
    }
}
