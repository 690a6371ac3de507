import Apply
import Dispatch
import FileAccess
import Foundation
import Queue
import Risk
import Synchronization

/// The pending proposals of every bottle as `list` shows them, with their
/// risk hints, reading only the files the ``ListingCache`` has no record of.
///
/// Per bottle: one directory listing and one `fstatat` per pending
/// proposal (``BottleQueue/pendingVersions(reusing:pinningBefore:)``), one `stat` per
/// current file its proposals replace; a proposal whose record matches both
/// versions is not opened. Every other proposal goes through the same
/// guarded read, decode and checks as without a cache,
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
        /// The bottles whose live directory holds a decision file (and those
        /// that could not be listed): the only ones where an apply can have
        /// been cut off (``BottleQueue/PendingListing/hasDecisions``).
        public var bottlesWithDecisions: Set<BottleSlug> = []
    }

    /// Lists the pending proposals of `bottles`.
    /// - Parameter start: the wall clock before the first `stat`, in
    ///   nanoseconds since 1970 (``FileIdentity/now()``): a version is kept
    ///   only if it was settled by then. A parameter for the tests.
    public func pending(of bottles: [BottleSlug], start: Int64 = FileIdentity.now()) -> Result {
        // Current files are looked at relative to the config root, opened once.
        let rootDescriptor = open(configRoot.path.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if rootDescriptor >= 0 { close(rootDescriptor) } }
        let listed = Mutex([BottleResult?](repeating: nil, count: bottles.count))
        DispatchQueue.concurrentPerform(iterations: bottles.count) { index in
            let part = list(bottles[index], start: start, rootDescriptor: rootDescriptor)
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
        for (bottle, part) in zip(bottles, parts) {
            if part.hasDecisions || !part.unreadable.isEmpty { result.bottlesWithDecisions.insert(bottle) }
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
        var hasDecisions = false
        var filesRead = 0
        var changed = false
    }

    private func list(_ bottle: BottleSlug, start: Int64, rootDescriptor: Int32) -> BottleResult {
        var part = BottleResult()
        let known = cache.records(of: bottle)
        var currents = CurrentFiles(configRoot: configRoot, rootDescriptor: rootDescriptor, bottle: bottle)
        // The records found, in the order the lister said so: its `.known` versions come in that order.
        var found: [ListingCache.Record] = []
        let versions: [BottleQueue.PendingVersion]
        do throws(QueueError) {
            let listing = try queueRoot.queue(for: bottle).pendingVersions(
                reusing: { name in
                    guard let record = known[name.id], record.identity == name.identity,
                        record.current == currents.version(of: record.row.tool.configFile)
                    else { return false }
                    found.append(record)
                    return true
                }, pinningBefore: cache.file == nil ? nil : start)
            versions = listing.versions
            part.hasDecisions = listing.hasDecisions
        } catch {
            part.unreadable.append(error)
            return part
        }
        part.rows.reserveCapacity(versions.count)
        for version in versions {
            switch version {
            case .known(let name):
                var row = found[part.hits.count].row
                row.waiting = name.waiting
                row.stoppedWaitingAt = name.stoppedWaitingAt
                part.rows.append(row)
                part.hits.append(name.id)
            case .read(_, let entry, let identity):
                part.changed = true
                part.filesRead += 1
                let proposal = entry.proposal
                let file = proposal.tool.configFile
                let current = currents.version(of: file)
                let row = ListedProposal(
                    entry,
                    riskHints: RiskHints.assess(
                        tool: proposal.tool, proposed: proposal.proposedFile, current: currents.text(of: file)))
                part.rows.append(row)
                if let identity, let current, identity.isSettled(at: start), currents.isSettled(file, at: start) {
                    part.records.append(.init(id: proposal.id, identity: identity, current: current, row: row))
                }
            case .unreadable(let error):
                part.changed = true
                part.filesRead += 1
                part.unreadable.append(error)
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
        /// The config root, opened by ``FleetListing/pending(of:start:)``; -1 when it could not be.
        let rootDescriptor: Int32
        let bottle: BottleSlug
        private var versions: [ConfigFile: ListingCache.CurrentFile?] = [:]
        private var texts: [ConfigFile: String?] = [:]
        /// Files whose read failed although they exist: assessed as missing, so nothing is cached against them.
        private var unread: Set<ConfigFile> = []

        init(configRoot: ConfigRoot, rootDescriptor: Int32, bottle: BottleSlug) {
            self.configRoot = configRoot
            self.rootDescriptor = rootDescriptor
            self.bottle = bottle
        }

        /// `nil` when it cannot be told (a `stat` error other than "no such file"): nothing is cached against it.
        mutating func version(of file: ConfigFile) -> ListingCache.CurrentFile? {
            if let known = versions[file] { return known }
            let version: ListingCache.CurrentFile?
            // Relative to the config root's descriptor: a `stat` by full path walks every component again.
            var info = stat()
            if rootDescriptor < 0 {
                // No config root (never made): no current file anywhere; another failure: unknown.
                version = access(configRoot.path.string, F_OK) != 0 && errno == ENOENT ? .absent : nil
            } else if fstatat(rootDescriptor, "\(bottle.rawValue)/\(file.fileName)", &info, 0) == 0 {
                version = (info.st_mode & S_IFMT) == S_IFREG ? .version(FileIdentity(info)) : nil
            } else {
                version = errno == ENOENT ? .absent : nil
            }
            versions[file] = .some(version)
            return version
        }

        mutating func text(of file: ConfigFile) -> String? {
            if let known = texts[file] { return known }
            _ = version(of: file)
            let text: String?
            do throws(FileAccessError) {
                text = try configRoot.current(file, for: bottle)
            } catch {
                text = nil
                unread.insert(file)
            }
            texts[file] = .some(text)
            return text
        }

        func isSettled(_ file: ConfigFile, at start: Int64) -> Bool {
            guard !unread.contains(file) else { return false }
            return switch versions[file] {
            case .some(.some(.version(let identity))): identity.isSettled(at: start)
            case .some(.some(.absent)): true
            default: false
            }
        }
    }
}
