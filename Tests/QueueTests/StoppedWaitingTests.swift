import Foundation
import Queue
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The stopped-waiting marker")
struct StoppedWaitingTests {
    static func queue() throws -> (BottleQueue, String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sw-\(UUID().uuidString.prefix(8))")
            .path
        let queue = BottleQueue(directory: FilePath(root), bottle: try BottleSlug("web"))
        try queue.prepare()
        return (queue, root)
    }

    static func proposal(_ queue: BottleQueue) async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug("web"), tool: .pipelockBlock, proposedFile: "example.com\n",
            justification: "j", currentFileSHA256: nil)
        _ = try await queue.submit(proposal)
        return proposal
    }

    @Test("its mtime is when the agent stopped waiting; a waiting marker wins; archiving removes it")
    func roundTrip() async throws {
        let (queue, root) = try Self.queue()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let proposal = try await Self.proposal(queue)
        #expect(try queue.all().first?.stoppedWaitingAt == nil)
        let before = Date().addingTimeInterval(-1)
        try queue.markStoppedWaiting(proposal.id)
        let stopped = try #require(try queue.all().first?.stoppedWaitingAt)
        #expect(stopped >= before && stopped <= Date().addingTimeInterval(1))
        #expect(try queue.all().first?.attendance.hasPrefix("the agent stopped waiting at ") == true)
        try queue.setWaiting(proposal.id, true)
        #expect(try queue.all().first?.stoppedWaitingAt == nil, "a call attached now wins over an older stop")
        try queue.setWaiting(proposal.id, false)
        try queue.decide(Decision(id: proposal.id, status: .approved, decidedBy: "ops"))
        try await queue.archive(proposal.id)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/\(proposal.id).stopped-waiting"))
    }

    @Test("a stopped-waiting marker is believed only as a regular file: symlinks and FIFOs are ignored, never opened")
    func hostileMarkers() async throws {
        let (queue, root) = try Self.queue()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let proposal = try await Self.proposal(queue)
        let marker = "\(root)/\(proposal.id).stopped-waiting"
        // A FIFO: opening it for reading would block forever.
        #expect(mkfifo(marker, 0o644) == 0)
        let started = ContinuousClock.now
        #expect(queue.stoppedWaitingTime(proposal.id) == nil)
        #expect(try queue.all().first?.stoppedWaitingAt == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        unlink(marker)
        #expect(symlink("/etc/passwd", marker) == 0)
        #expect(queue.stoppedWaitingTime(proposal.id) == nil)
        unlink(marker)
        #expect(mkdir(marker, 0o755) == 0)
        #expect(queue.stoppedWaitingTime(proposal.id) == nil)
        rmdir(marker)
        // The sidecar replaces whatever it finds with its own regular file.
        #expect(symlink("/etc/passwd", marker) == 0)
        try queue.markStoppedWaiting(proposal.id)
        #expect(queue.stoppedWaitingTime(proposal.id) != nil)
        #expect(try String(contentsOfFile: "/etc/passwd", encoding: .utf8).isEmpty == false)
    }

    @Test("a restart turns a waiting marker into 'stopped waiting': no call survives it")
    func restart() async throws {
        let (queue, root) = try Self.queue()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let proposal = try await Self.proposal(queue)
        try queue.setWaiting(proposal.id, true)
        try queue.recover(clearWaitingMarkers: true)
        let entry = try #require(try queue.all().first)
        #expect(!entry.waiting)
        #expect(entry.stoppedWaitingAt != nil)
    }
}
