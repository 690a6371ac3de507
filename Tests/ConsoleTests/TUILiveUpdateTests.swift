import Foundation
import Queue
import Synchronization
import SystemPackage
import Testing

@testable import Console

/// The console's reader of a real queue root, counting what it is asked to read.
private final class CountingReader: ConsoleQueueReader {
    let inner: QueueRootReader
    private let counts = Mutex((scannedBottles: 0, entries: 0, decisions: 0))

    init(_ root: QueueRoot) { inner = QueueRootReader(root: root) }

    var scannedBottles: Int { counts.withLock { $0.scannedBottles } }
    var entryReads: Int { counts.withLock { $0.entries } }
    func reset() { counts.withLock { $0 = (0, 0, 0) } }

    func bottles() -> [BottleSlug] { inner.bottles() }

    func scan(_ bottles: [BottleSlug]) -> [Result<QueueRoot.BottleScan, QueueError>] {
        counts.withLock { $0.scannedBottles += bottles.count }
        return inner.scan(bottles)
    }

    func entry(_ id: ProposalID, of bottle: BottleSlug) throws(QueueError) -> QueueEntry? {
        counts.withLock { $0.entries += 1 }
        return try inner.entry(id, of: bottle)
    }

    func decision(_ id: ProposalID, of bottle: BottleSlug) -> Decision? {
        counts.withLock { $0.decisions += 1 }
        return inner.decision(id, of: bottle)
    }
}

private func temporaryRoot() -> QueueRoot {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return QueueRoot(FilePath(path))
}

private func proposal(_ bottle: String, _ host: String, minutesAgo: Double) -> Proposal {
    Proposal(
        bottle: try! BottleSlug(bottle), tool: .pipelockBlock, proposedFile: "\(host)\n",
        justification: "needs \(host)", currentFileSHA256: nil, createdAt: Date().addingTimeInterval(-minutesAgo * 60))
}

@Suite("TUI: live updates")
struct TUILiveUpdateTests {
    /// A root of three bottles with two pending proposals each, loaded into a model.
    private func loaded() async throws -> (QueueRoot, CountingReader, ConsoleModel) {
        let root = temporaryRoot()
        for (index, bottle) in ["b1", "b2", "b3"].enumerated() {
            for host in ["a.example", "b.example"] {
                _ = try await root.queue(for: try BottleSlug(bottle)).submit(
                    proposal(bottle, host, minutesAgo: Double(30 - index)))
            }
        }
        let reader = CountingReader(root)
        var model = ConsoleModel()
        _ = model.reload(nil, from: reader)
        #expect(model.entries.count == 6)
        reader.reset()
        return (root, reader, model)
    }

    /// The model a full rescan would give, to hold the one-file update to.
    private func rescanned(_ model: ConsoleModel, _ root: QueueRoot) -> [QueueEntry] {
        var fresh = model
        _ = fresh.reload(nil, from: QueueRootReader(root: root))
        return fresh.entries
    }

    @Test("a new proposal costs one file's read, and lands where a rescan would put it")
    func arrival() async throws {
        var (root, reader, model) = try await loaded()
        defer { try? FileManager.default.removeItem(atPath: root.path.string) }
        let new = proposal("b2", "c.example", minutesAgo: 29.5)
        _ = try await root.queue(for: new.bottle).submit(new)

        let update = model.refresh(new.id, of: new.bottle, from: reader)

        #expect(reader.entryReads == 1)
        #expect(reader.scannedBottles == 0)
        #expect(update.arrived.map(\.id) == [new.id])
        #expect(model.entries == rescanned(model, root))
        #expect(model.entries.map(\.proposal.id).firstIndex(of: new.id) == 2)  // after b1's two, before b2's
    }

    @Test("a decision, then the archive: one read each, the proposal stays on screen as decided")
    func decisionAndArchive() async throws {
        var (root, reader, model) = try await loaded()
        defer { try? FileManager.default.removeItem(atPath: root.path.string) }
        let target = model.entries[2].proposal
        let queue = root.queue(for: target.bottle)
        try queue.decide(Decision(id: target.id, status: .rejected, notes: "no", decidedBy: "ops"))

        let update = model.refresh(target.id, of: target.bottle, from: reader)
        #expect(update.arrived.isEmpty)
        #expect(reader.entryReads == 1)
        #expect(reader.scannedBottles == 0)
        #expect(model.entries.first { $0.proposal.id == target.id }?.decision?.status == .rejected)
        #expect(model.entries == rescanned(model, root))
        #expect(model.pendingSummary.proposals == 5)

        try await queue.archive(target.id)
        _ = model.refresh(target.id, of: target.bottle, from: reader)
        #expect(reader.entryReads == 2)
        #expect(reader.scannedBottles == 0)
        #expect(model.entries.first { $0.proposal.id == target.id }?.decision?.status == .rejected)
        #expect(model.entries == rescanned(model, root))
    }

    @Test("an agent attaching shows as waiting after one read")
    func waiting() async throws {
        var (root, reader, model) = try await loaded()
        defer { try? FileManager.default.removeItem(atPath: root.path.string) }
        let target = model.entries[4].proposal
        try root.queue(for: target.bottle).setWaiting(target.id, true)
        _ = model.refresh(target.id, of: target.bottle, from: reader)
        #expect(reader.entryReads == 1)
        #expect(model.entries.first { $0.proposal.id == target.id }?.waiting == true)
        #expect(model.entries == rescanned(model, root))
    }

    @Test("a proposal file replaced by a FIFO leaves the list with a message, like a rescan")
    func damaged() async throws {
        var (root, reader, model) = try await loaded()
        defer { try? FileManager.default.removeItem(atPath: root.path.string) }
        let target = model.entries[1].proposal
        let path = root.queue(for: target.bottle).directory.appending(target.id.rawValue + ".proposal.json")
        unlink(path.string)
        #expect(mkfifo(path.string, 0o644) == 0)
        _ = model.refresh(target.id, of: target.bottle, from: reader)
        #expect(reader.entryReads == 1)
        #expect(!model.entries.contains { $0.proposal.id == target.id })
        #expect(model.message?.isError == true)
        #expect(model.message?.text.contains("FIFO") == true)
        #expect(model.entries == rescanned(model, root))
    }

    @Test("the watcher names the proposal whose file changed, not just its bottle")
    func watcherNamesTheEntry() async throws {
        let root = temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.path.string) }
        let bottle = try BottleSlug("b1")
        try root.queue(for: bottle).prepare()
        // `changes` watches the root and its bottles before it returns: the proposal may be written at once.
        let stream = QueueWatch.changes(root: root.path)
        let new = proposal("b1", "a.example", minutesAgo: 0)
        _ = try await root.queue(for: bottle).submit(new)
        let seen = Task {
            for await change in stream where change == .entry(bottle, new.id) { return true }
            return false
        }
        let deadline = Task {
            try await Task.sleep(for: .seconds(60))  // the deadline, generous for a loaded machine
            seen.cancel()
        }
        #expect(await seen.value)
        deadline.cancel()
        // Names that are not a proposal's files: a writer's temp file says nothing; anything else, the bottle.
        #expect(QueueWatch.change(named: ".\(new.id).proposal.json.x1.tmp", in: bottle) == nil)
        #expect(QueueWatch.change(named: "archive", in: bottle) == nil)
        #expect(QueueWatch.change(named: "\(new.id).decision.json", in: bottle) == .entry(bottle, new.id))
        #expect(QueueWatch.change(named: "\(new.id).stopped-waiting", in: bottle) == .entry(bottle, new.id))
        #expect(QueueWatch.change(named: "notes.txt", in: bottle) == .bottle(bottle))
    }
}
