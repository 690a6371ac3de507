import Eventually
import Apply
import FileAccess
import Foundation
import Queue
import Risk
import SystemPackage
import Testing

@testable import Console

/// A queue root, a config root and a cache file in one scratch directory.
private final class Fleet: Sendable {
    let base: String
    let queueRoot: QueueRoot
    let configRoot: ConfigRoot
    let cacheFile: FilePath

    /// - Parameter parent: where the scratch directory goes (the temporary directory by default).
    init(in parent: String = FileManager.default.temporaryDirectory.path) {
        base = parent + "/listing-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: base + "/queue", withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: base + "/config", withIntermediateDirectories: true)
        queueRoot = QueueRoot(FilePath(base + "/queue"))
        configRoot = ConfigRoot(FilePath(base + "/config"))
        cacheFile = FilePath(base + "/cache/bottle-supervise/listing-test")
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// Whether the scratch file system is one the cache is used on (``QueueDirectory/keepsChangeTimes``).
    static let keepsChangeTimes: Bool = {
        let fleet = Fleet()
        return (try? QueueDirectory.open(FilePath(fleet.base + "/queue")))??.keepsChangeTimes ?? false
    }()

    func submit(_ bottle: String, _ host: String, justification: String? = nil, createdAt: Date = Date()) async throws
        -> Proposal
    {
        let slug = try BottleSlug(bottle)
        let proposal = Proposal(
            bottle: slug, tool: .pipelockBlock, proposedFile: "api.github.com\n\(host)\n",
            justification: justification ?? "needs \(host)", currentFileSHA256: nil, createdAt: createdAt)
        return try await queueRoot.queue(for: slug).submit(proposal).proposal
    }

    func setCurrent(_ bottle: String, _ text: String) throws {
        let directory = base + "/config/\(bottle)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/allowlist"))
    }

    /// Waits until the kernel's file-timestamp clock has moved past `path`'s
    /// change time, so that the next change to it gets a later one (what the
    /// cache relies on). It watches a scratch file's change time, the clock
    /// that matters, rather than sleeping for a guess at its tick.
    func waitForChangeTimeToMovePast(_ path: String) async throws {
        let changed = try #require(FileIdentity.of(path: path)).changed
        let probe = base + "/change-time-probe"
        #expect(FileManager.default.createFile(atPath: probe, contents: Data()))
        try await eventually("the file system's clock moved past \(path)'s change time") {
            chmod(probe, 0o600)  // sets its change time to the clock now
            return (FileIdentity.of(path: probe)?.changed ?? .min) > changed
        }
    }

    func proposalPath(_ proposal: Proposal) -> String {
        base + "/queue/\(proposal.bottle)/\(proposal.id).proposal.json"
    }

    /// One `list`: the cache file as it is, then saved if the listing changed it, as `list` does.
    /// - Parameter start: the listing's clock (ns since 1970); by default a
    ///   minute ahead, so every file is settled (a test cannot age a change time).
    func list(start: Int64 = FileIdentity.now() + 60_000_000_000) -> FleetListing.Result {
        let cache = ListingCache.load(cacheFile)
        let bottles = (try? queueRoot.bottles()) ?? []
        let listing = FleetListing(queueRoot: queueRoot, configRoot: configRoot, cache: cache)
        let result = listing.pending(of: bottles, start: start)
        if result.changed { cache.save(result.records) }
        return result
    }

    /// The rows without a cache, for comparison.
    func uncached() -> [ListedProposal] {
        FleetListing(queueRoot: queueRoot, configRoot: configRoot, cache: .none)
            .pending(of: (try? queueRoot.bottles()) ?? []).rows
    }
}

/// Rewrites `path` in place (same inode, same size) and sets its modification
/// time back: what a hostile sidecar can do to a queue file. Only the change time moves.
private func rewriteInPlace(_ path: String, replacing old: String, with new: String) throws {
    precondition(old.utf8.count == new.utf8.count)
    var before = stat()
    guard stat(path, &before) == 0 else { throw POSIXError(.ENOENT) }
    let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: old, with: new)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
    var times = [before.st_atim, before.st_mtim]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(.EPERM) }
}

@Suite(
    "Listing cache",
    .enabled(
        if: Fleet.keepsChangeTimes,
        "the temporary directory is on a file system the cache is not used on (tmpfs, NFS…); see `on tmpfs nothing is cached`"
    ))
struct ListingCacheTests {
    @Test("a second listing opens no proposal file and shows exactly what a full read shows")
    func reuse() async throws {
        let fleet = Fleet()
        try fleet.setCurrent("b1", "api.github.com\n")
        for host in ["a.example", "b.example"] { _ = try await fleet.submit("b1", host) }
        _ = try await fleet.submit("b2", "*.s3.amazonaws.com")
        let first = fleet.list()
        #expect(first.filesRead == 3)
        #expect(first.changed)
        let second = fleet.list()
        #expect(second.filesRead == 0)
        #expect(!second.changed)
        #expect(second.rows == fleet.uncached())
        #expect(second.rows.contains { !$0.riskHints.isEmpty }, "the wildcard's hints come back from the cache")
        var info = stat()
        #expect(stat(fleet.cacheFile.string, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(fleet.cacheFile.removingLastComponent().string, &info) == 0 && info.st_mode & 0o777 == 0o700)
    }

    @Test("a file changed in place, same size, is read again and shown as it is now")
    func rewrittenInPlace() async throws {
        let fleet = Fleet()
        let proposal = try await fleet.submit("b1", "a.example", justification: "harmless reason")
        _ = fleet.list()
        let before = try #require(FileIdentity.of(path: fleet.proposalPath(proposal)))
        // The change time must move on: a kernel tick is a few milliseconds.
        try await fleet.waitForChangeTimeToMovePast(fleet.proposalPath(proposal))
        try rewriteInPlace(fleet.proposalPath(proposal), replacing: "harmless reason", with: "HOSTILE reason!")
        let now = try #require(FileIdentity.of(path: fleet.proposalPath(proposal)))
        #expect(now.modified == before.modified && now.size == before.size && now.inode == before.inode)
        #expect(now.changed != before.changed)
        let after = fleet.list()
        #expect(after.filesRead == 1)
        #expect(after.rows.map(\.justification) == ["HOSTILE reason!"])
        #expect(after.rows.first?.problem == nil)
    }

    @Test("a cached file replaced by a link or a FIFO is refused, not shown from the cache")
    func replacedByLinkOrFIFO() async throws {
        let fleet = Fleet()
        let linked = try await fleet.submit("b1", "a.example")
        let piped = try await fleet.submit("b1", "b.example")
        #expect(fleet.list().rows.count == 2)
        let outside = fleet.base + "/outside.json"
        try FileManager.default.moveItem(atPath: fleet.proposalPath(linked), toPath: outside)
        try FileManager.default.createSymbolicLink(atPath: fleet.proposalPath(linked), withDestinationPath: outside)
        unlink(fleet.proposalPath(piped))
        #expect(mkfifo(fleet.proposalPath(piped), 0o644) == 0)
        let after = fleet.list()
        #expect(after.rows.isEmpty)
        #expect(after.unreadable.count == 2)
        #expect(after.unreadable.map(\.description).contains { $0.contains("symbolic link") })
        #expect(after.unreadable.map(\.description).contains { $0.contains("FIFO") })
    }

    @Test("a change of the bottle's current file reassesses its proposals' hints")
    func currentFileChanged() async throws {
        let fleet = Fleet()
        try fleet.setCurrent("b1", "api.github.com\n")
        _ = try await fleet.submit("b1", "a.example")
        _ = fleet.list()
        #expect(fleet.list().filesRead == 0)
        try await fleet.waitForChangeTimeToMovePast(fleet.base + "/config/b1/allowlist")
        try fleet.setCurrent("b1", "pypi.org\n")
        let after = fleet.list()
        #expect(after.filesRead == 1)
        #expect(after.rows == fleet.uncached())
    }

    @Test("a current file that cannot be read is never cached against")
    func unreadableCurrentFile() async throws {
        let fleet = Fleet()
        // A directory where the allowlist should be: neither a version nor absent.
        try FileManager.default.createDirectory(
            atPath: fleet.base + "/config/b1/allowlist", withIntermediateDirectories: true)
        _ = try await fleet.submit("b1", "a.example")
        #expect(fleet.list().filesRead == 1)
        #expect(fleet.list().filesRead == 1, "assessed against an unknown file: read every time")
    }

    @Test("a file changed through a shared mapping after it was cached is read again")
    func rewrittenThroughSharedMapping() async throws {
        let fleet = Fleet()
        let proposal = try await fleet.submit("b1", "a.example", justification: "harmless reason")
        let path = fleet.proposalPath(proposal)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let offset = try #require(
            bytes.indices.first { bytes[$0...].starts(with: Array("harmless reason".utf8)) }, "the justification")
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        let mapping = try #require(mmap(nil, bytes.count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, bytes.count) }
        func store(_ text: String) { for (index, byte) in text.utf8.enumerated() { mapping.storeBytes(of: byte, toByteOffset: offset + index, as: UInt8.self) } }
        // The sidecar's first store dirties the page (the change time is set once, at that fault)…
        store("harmless reasoN")
        try await fleet.waitForChangeTimeToMovePast(path)
        #expect(fleet.list().rows.map(\.justification) == ["harmless reasoN"])
        try await fleet.waitForChangeTimeToMovePast(path)
        // …and its next store, after the host cached the file, must not go unseen.
        store("HOSTILE reason!")
        let after = fleet.list()
        #expect(after.filesRead == 1)
        #expect(after.rows.map(\.justification) == ["HOSTILE reason!"])
    }

    @Test("a file changed within the settle time is never cached")
    func racyFilesAreNotKept() async throws {
        let fleet = Fleet()
        let proposal = try await fleet.submit("b1", "a.example")
        let changed = try #require(FileIdentity.of(path: fleet.proposalPath(proposal))).changed
        let early = changed + FileIdentity.settleTime - 1
        #expect(fleet.list(start: early).filesRead == 1)
        #expect(fleet.list(start: early).filesRead == 1, "changed within the settle time: read every time")
        #expect(fleet.list(start: changed + FileIdentity.settleTime).filesRead == 1, "settled now: read and kept")
        #expect(fleet.list(start: changed + FileIdentity.settleTime).filesRead == 0)
    }

    @Test("a decided proposal leaves the listing and the cache")
    func decided() async throws {
        let fleet = Fleet()
        let first = try await fleet.submit("b1", "a.example")
        _ = try await fleet.submit("b1", "b.example")
        _ = fleet.list()
        try fleet.queueRoot.queue(for: first.bottle).decide(
            Decision(id: first.id, status: .rejected, notes: "no", decidedBy: "test"))
        let after = fleet.list()
        #expect(after.rows.count == 1 && after.rows[0].id != first.id)
        #expect(after.changed)
        #expect(after.filesRead == 0)
        #expect(ListingCache.load(fleet.cacheFile).records(of: first.bottle).keys.sorted() == after.rows.map(\.id))
    }

    @Test("waiting state comes from the directory, not the cache")
    func waitingIsFresh() async throws {
        let fleet = Fleet()
        let proposal = try await fleet.submit("b1", "a.example")
        #expect(fleet.list().rows.first?.waiting == false)
        let marker = fleet.base + "/queue/b1/\(proposal.id).waiting"
        #expect(FileManager.default.createFile(atPath: marker, contents: Data()))
        let after = fleet.list()
        #expect(after.filesRead == 0)
        #expect(after.rows.first?.waiting == true)
    }

    @Test("a damaged, truncated or foreign cache file is ignored whole, and the listing is still right")
    func damagedCache() async throws {
        let fleet = Fleet()
        for host in ["a.example", "b.example"] { _ = try await fleet.submit("b1", host) }
        _ = fleet.list()
        let good = try Data(contentsOf: URL(fileURLWithPath: fleet.cacheFile.string))
        let damaged: [Data] = [
            good.prefix(good.count - 40),  // a section runs past the end
            Data("bottle-supervise listing cache\t1\t0.0.1\tother\n".utf8) + good.drop(while: { $0 != 10 }).dropFirst(),
            Data(repeating: 0xFF, count: 4096),
            Data(),
        ]
        for bytes in damaged {
            try bytes.write(to: URL(fileURLWithPath: fleet.cacheFile.string))
            let listing = fleet.list()
            #expect(listing.filesRead == 2)
            #expect(listing.rows == fleet.uncached())
        }
        // A record mangled inside a well-formed section (same length: the section still ends where it says) is dropped alone.
        try good.write(to: URL(fileURLWithPath: fleet.cacheFile.string))
        var text = String(decoding: good, as: UTF8.self)
        let id = try #require(ListingCache.load(fleet.cacheFile).records(of: try BottleSlug("b1")).keys.min())
        text = text.replacingOccurrences(of: "\(id.rawValue)\t", with: "\(id.rawValue.dropLast())Z\t")
        try Data(text.utf8).write(to: URL(fileURLWithPath: fleet.cacheFile.string))
        #expect(ListingCache.load(fleet.cacheFile).records(of: try BottleSlug("b1")).count == 1)
    }

    @Test("a section length past the end, or a date that is not finite, is not believed")
    func hostileNumbers() async throws {
        let fleet = Fleet()
        for host in ["a.example", "b.example"] { _ = try await fleet.submit("b1", host) }
        _ = fleet.list()
        let good = String(decoding: try Data(contentsOf: URL(fileURLWithPath: fleet.cacheFile.string)), as: UTF8.self)
        var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let sectionLine = try #require(lines.firstIndex { $0.hasPrefix("B\t") })
        var huge = lines
        huge[sectionLine] = "B\tb1\t\(Int.max)"
        try Data(huge.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: fleet.cacheFile.string))
        #expect(ListingCache.load(fleet.cacheFile).isEmpty)
        #expect(fleet.list().rows == fleet.uncached())
        // NaN as the created date, written to the same length: that record alone is dropped.
        try Data(good.utf8).write(to: URL(fileURLWithPath: fleet.cacheFile.string))
        var fields = lines[sectionLine + 1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let nan = String(Double.nan.bitPattern)
        fields[8] = String(nan.prefix(fields[8].count)).padding(toLength: fields[8].count, withPad: "9", startingAt: 0)
        lines[sectionLine + 1] = fields.joined(separator: "\t")
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: fleet.cacheFile.string))
        #expect(ListingCache.load(fleet.cacheFile).records(of: try BottleSlug("b1")).count == 1)
        #expect(fleet.list().rows == fleet.uncached())
    }

    @Test("text fields survive the file's escaping: tabs, line feeds, backslashes, a lone ~")
    func escaping() throws {
        let slug = try BottleSlug("b1")
        let id = ProposalID.generate(at: Date())
        let row = ListedProposal(
            id: id, bottle: slug, tool: .capabilityBlock, createdAt: Date(timeIntervalSince1970: 1_800_000_000.123),
            expiresAt: Date(timeIntervalSince1970: 1_800_000_600.5), justification: "~",
            currentFileSHA256: String(repeating: "a", count: 64), proposedFileSHA256: String(repeating: "b", count: 64),
            proposalSHA256: String(repeating: "c", count: 64), problem: "a\tb\nc\\d\r~",
            decision: nil, waiting: false, stoppedWaitingAt: nil, archived: false,
            riskHints: [
                RiskHint(.critical, "rule\t1", "why\\n not a line feed\n", line: 3),
                RiskHint(.notice, "~", "~", line: nil),
            ])
        let identity = FileIdentity(device: 1, inode: 2, size: 3, modified: 4, changed: 5)
        let record = ListingCache.Record(
            id: id, identity: identity, current: .version(identity), row: row)
        let other = ListingCache.Record(
            id: ProposalID.generate(at: Date().addingTimeInterval(1)), identity: identity, current: .absent,
            row: ListedProposal(
                id: id, bottle: slug, tool: .credProxyBlock, createdAt: Date(), expiresAt: nil, justification: "",
                currentFileSHA256: nil, proposedFileSHA256: String(repeating: "d", count: 64), proposalSHA256: nil,
                problem: nil, decision: nil, waiting: false, stoppedWaitingAt: nil, archived: false, riskHints: []))
        let fleet = Fleet()
        ListingCache.load(fleet.cacheFile).save([slug: [record, other]])
        let loaded = ListingCache.load(fleet.cacheFile).records(of: slug)
        #expect(loaded[id] == record)
        #expect(loaded[other.id]?.current == .absent)
        #expect(loaded[other.id]?.row.proposalSHA256 == nil && loaded[other.id]?.row.expiresAt == nil)
    }

    @Test("the cache lives under XDG_CACHE_HOME, else ~/.cache, one file per queue root")
    func location() {
        let xdg = ListingCache.location(
            queueRoot: FilePath("/srv/queue"), environment: ["XDG_CACHE_HOME": "/c", "HOME": "/home/o"])
        let home = ListingCache.location(queueRoot: FilePath("/srv/queue/"), environment: ["HOME": "/home/o"])
        let other = ListingCache.location(queueRoot: FilePath("/srv/other"), environment: ["HOME": "/home/o"])
        #expect(xdg?.string.hasPrefix("/c/bottle-supervise/listing-") == true)
        #expect(home?.string.hasPrefix("/home/o/.cache/bottle-supervise/listing-") == true)
        #expect(xdg?.lastComponent == home?.lastComponent)
        #expect(other?.lastComponent != home?.lastComponent)
        #expect(ListingCache.location(queueRoot: FilePath("/q"), environment: ["XDG_CACHE_HOME": "relative"]) == nil)
    }
}

@Suite("TUI: first screen")
struct TUIFirstScreenTests {
    /// Draws the loaded console's first screen and the preview from a listing, at one instant.
    private func both(_ fleet: Fleet, filter: String, size: Terminal.Size) -> (loaded: [String], preview: [String]) {
        let now = Date()
        var model = ConsoleModel()
        model.filter = filter
        let before = model
        _ = model.reload(nil, from: QueueRootReader(root: fleet.queueRoot))
        let view = ConsoleView(color: true)
        let listing = FleetListing(queueRoot: fleet.queueRoot, configRoot: fleet.configRoot, cache: .none)
            .pending(of: (try? fleet.queueRoot.bottles()) ?? [])
        return (view.render(model, size: size, now: now), view.renderPreview(listing.rows, model: before, size: size, now: now))
    }

    @Test("the preview drawn from the listing is the screen the loaded console draws")
    func previewMatchesLoaded() async throws {
        let fleet = Fleet()
        let hosts = [("alpha", "a.example"), ("beta", "b.example"), ("beta", "c.example"), ("gamma", "d.example")]
        for (index, (bottle, host)) in hosts.enumerated() {
            // Distinct creation times, a second apart, so the rows' order is the same on both screens.
            _ = try await fleet.submit(
                bottle, host, justification: "needs \(host)\nsecond line\u{1B}[2J",
                createdAt: Date(timeIntervalSinceNow: Double(index - 60)))
        }
        let waiting = try await fleet.submit("gamma", "w.example")
        #expect(FileManager.default.createFile(atPath: fleet.base + "/queue/gamma/\(waiting.id).waiting", contents: Data()))
        // A forged hash: the row says "refused" on both.
        let forged = try await fleet.submit("alpha", "f.example")
        try rewriteInPlace(fleet.proposalPath(forged), replacing: String(forged.proposedFileSHA256.prefix(4)), with: "0000")
        for (filter, size) in [("", Terminal.Size(rows: 12, columns: 100)), ("beta", .init(rows: 8, columns: 60)),
                               ("nothing", .init(rows: 6, columns: 40)), ("", .init(rows: 5, columns: 120))] {
            let screens = both(fleet, filter: filter, size: size)
            #expect(screens.preview == screens.loaded, "filter \(filter), \(size)")
        }
        #expect(both(fleet, filter: "", size: .init(rows: 12, columns: 100)).preview.joined().contains("refused"))
        #expect(both(fleet, filter: "", size: .init(rows: 12, columns: 100)).preview.joined().contains("waiting"))
    }

    @Test("an empty queue previews as the loaded console shows it")
    func empty() {
        let fleet = Fleet()
        let screens = both(fleet, filter: "", size: .init(rows: 10, columns: 80))
        #expect(screens.preview == screens.loaded)
    }
}

@Suite("Listing cache on tmpfs")
struct ListingCacheTmpfsTests {
    @Test(
        "on tmpfs nothing is cached: a store through a shared mapping never sets the change time there",
        .enabled(if: (try? QueueDirectory.open(FilePath("/dev/shm")))??.keepsChangeTimes == false, "no tmpfs at /dev/shm"))
    func tmpfs() async throws {
        let fleet = Fleet(in: "/dev/shm")
        _ = try await fleet.submit("b1", "a.example")
        #expect(fleet.list().filesRead == 1)
        #expect(fleet.list().filesRead == 1, "read every time")
    }
}
