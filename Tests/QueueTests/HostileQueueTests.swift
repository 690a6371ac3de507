import Dispatch
import FileAccess
import Foundation
import SystemPackage
import Testing

@testable import Queue

/// A bottle's queue directory as a compromised sidecar leaves it: links,
/// FIFOs, devices, hard links, oversized and forged files. The host reads
/// it through ``QueueDirectory`` and must never follow, wait on, or write
/// through any of them (docs/security.md, "Queue trust").
@Suite("A hostile queue directory")
struct HostileQueueTests {
    let directory = TemporaryDirectory()
    /// A file outside every root, standing for the operator's own files.
    var outside: FilePath { directory.path.appending("outside-secret") }

    init() {
        writeRaw("operator secret\n", to: directory.path.appending("outside-secret"))
    }

    func proposalPath(_ queue: BottleQueue, _ id: ProposalID) -> FilePath {
        queue.directory.appending("\(id).proposal.json")
    }

    func outsideIsUntouched() throws -> Bool {
        try String(contentsOfFile: outside.string, encoding: .utf8) == "operator secret\n"
    }

    @Test("a proposal file that is a symlink to a file outside is not followed, not listed, not decidable")
    func symlinkedProposal() async throws {
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        // The link points at a valid proposal outside the queue: only the link makes it reachable.
        let elsewhere = directory.path.appending("elsewhere.json")
        writeRaw(String(decoding: try QueueFormat.encode(proposal), as: UTF8.self), to: elsewhere)
        #expect(symlink(elsewhere.string, proposalPath(queue, proposal.id).string) == 0)
        let scan = try withDeadline { try queue.scan(archived: false) }
        #expect(scan.entries.isEmpty)
        #expect(scan.unreadable.count == 1)
        #expect(scan.unreadable.first?.description.contains("symbolic link") == true)
        #expect(throws: QueueError.self) { try queue.entry(proposal.id) }
        #expect(throws: (any Error).self) {
            try queue.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "op"))
        }
        #expect(!FileManager.default.fileExists(atPath: queue.directory.appending("\(proposal.id).decision.json").string))
    }

    @Test("a FIFO named like a proposal or a decision is reported at once, never waited on")
    func fifos() async throws {
        let queue = try makeQueue(in: directory)
        let pending = makeProposal()
        let blocked = makeProposal(file: "other.example\n")
        _ = try await queue.submit(pending)
        _ = try await queue.submit(blocked)
        let fifoID = try ProposalID("20260101-000000-00000000f1f0")
        #expect(mkfifo(proposalPath(queue, fifoID).string, 0o644) == 0)
        #expect(mkfifo(queue.directory.appending("\(blocked.id).decision.json").string, 0o644) == 0)
        let scan = try withDeadline { try queue.scan(archived: false) }
        #expect(scan.entries.map(\.proposal.id) == [pending.id])
        #expect(scan.unreadable.count == 2)
        #expect(scan.unreadable.allSatisfy { $0.description.contains("a FIFO, not a regular file") })
        #expect(throws: QueueError.self) { try withDeadline { try queue.entry(fifoID) } }
        #expect(throws: QueueError.self) { try withDeadline { try queue.decision(blocked.id) } }
    }

    @Test("a symlink to /dev/zero is refused before a byte is read")
    func deviceLink() async throws {
        let queue = try makeQueue(in: directory)
        let id = try ProposalID("20260101-000000-0000000000de")
        #expect(symlink("/dev/zero", proposalPath(queue, id).string) == 0)
        let started = ContinuousClock.now
        let scan = try withDeadline { try queue.scan(archived: false) }
        #expect(scan.unreadable.count == 1)
        #expect(ContinuousClock.now - started < .seconds(2))
        // Opened by the guard directly (no link in the way), a device is refused by fstat.
        let live = try #require(try QueueDirectory.open(FilePath("/dev")))
        #expect(throws: QueueError.self) { try withDeadline { try live.read("zero") } }
    }

    @Test("a hard link to an outside file is only read, never written through")
    func hardLink() async throws {
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        // A decision name that is a second name of the operator's file.
        let decisionPath = queue.directory.appending("\(proposal.id).decision.json")
        #expect(link(outside.string, decisionPath.string) == 0)
        #expect(throws: QueueError.self) { try queue.decision(proposal.id) }
        #expect(throws: QueueError.self) {
            try queue.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "op"))
        }
        #expect(throws: QueueError.self) {
            try queue.recordApply(ApplyOutcome(state: .failed, summary: "x"), for: proposal.id)
        }
        #expect(try outsideIsUntouched())
    }

    @Test("a symlinked archive/ is neither read nor written through")
    func symlinkedArchive() async throws {
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        // The real archive goes; a link to a directory outside takes its name.
        let target = directory.path.appending("outside-dir")
        #expect(mkdir(target.string, 0o755) == 0)
        writeRaw(String(decoding: try QueueFormat.encode(proposal), as: UTF8.self), to: target.appending("\(proposal.id).proposal.json"))
        #expect(rmdir(queue.directory.appending("archive").string) == 0)
        #expect(symlink(target.string, queue.directory.appending("archive").string) == 0)
        let scan = try withDeadline { try queue.scan(archived: true) }
        #expect(scan.entries.isEmpty)
        #expect(scan.unreadable.first?.description.contains("not a real directory") == true)
        #expect(throws: QueueError.self) { try queue.entry(proposal.id) }
        #expect(throws: QueueError.self) {
            try queue.recordApply(ApplyOutcome(state: .failed, summary: "x"), for: proposal.id)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.string) == ["\(proposal.id).proposal.json"])
    }

    @Test("a symlinked slug directory is skipped and reported by the queue root")
    func symlinkedSlugDirectory() async throws {
        let root = QueueRoot(directory.path.appending("queue"))
        try AtomicFile.makeDirectory(root.path)
        let real = try makeQueue(in: directory, bottle: slug("real"))
        _ = try await real.submit(makeProposal(bottle: slug("real")))
        #expect(symlink(real.directory.string, root.path.appending("evil").string) == 0)
        let bottles = try root.scanBottles()
        #expect(bottles.bottles.isEmpty)
        #expect(bottles.skipped.count == 1)
        #expect(throws: QueueError.self) { try QueueDirectory.open(root.path.appending("evil")) }
        #expect(try root.queue(for: slug("evil")).scan(archived: false).entries.isEmpty)
    }

    @Test("a file over the size cap is refused before it is read")
    func oversized() async throws {
        let queue = try makeQueue(in: directory)
        let id = try ProposalID("20260101-000000-0000000000b1")
        let fd = open(proposalPath(queue, id).string, O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, off_t(QueueDirectory.maximumFileSize + 1)) == 0)
        close(fd)
        let scan = try withDeadline { try queue.scan(archived: false) }
        #expect(scan.unreadable.first?.description.contains("the limit is \(QueueDirectory.maximumFileSize)") == true)
    }

    @Test("forged hash fields and an unbounded justification are refused; a hash that does not match is flagged")
    func forgedFields() async throws {
        let queue = try makeQueue(in: directory)
        var forged = makeProposal()
        forged.proposedFileSHA256 = String(repeating: "A", count: 100_000)
        writeRaw(String(decoding: try QueueFormat.encode(forged), as: UTF8.self), to: proposalPath(queue, forged.id))
        var long = makeProposal(file: "long.example\n")
        long.justification = String(repeating: "j", count: Proposal.maximumJustificationSize + 1)
        writeRaw(String(decoding: try QueueFormat.encode(long), as: UTF8.self), to: proposalPath(queue, long.id))
        var mismatched = makeProposal(file: "mismatch.example\n")
        mismatched.proposedFileSHA256 = SHA256Hex.of("something else")
        writeRaw(
            String(decoding: try QueueFormat.encode(mismatched), as: UTF8.self), to: proposalPath(queue, mismatched.id))
        var invalid = makeProposal(file: "bad\u{0}host\u{1B}[2J\n")
        invalid.proposedFileSHA256 = SHA256Hex.of(invalid.proposedFile)
        writeRaw(String(decoding: try QueueFormat.encode(invalid), as: UTF8.self), to: proposalPath(queue, invalid.id))

        let scan = try queue.scan(archived: false)
        #expect(scan.unreadable.count == 2)
        #expect(scan.unreadable.contains { $0.description.contains("proposed_file_sha256 is not 64 lowercase hex") })
        #expect(scan.unreadable.contains { $0.description.contains("justification is") })
        #expect(!scan.unreadable.contains { $0.description.contains("AAAAAAAA") })
        let problems = Dictionary(uniqueKeysWithValues: scan.entries.map { ($0.proposal.id, $0.problem) })
        #expect(problems[mismatched.id]??.contains("does not match") == true)
        // Listing runs only the cheap check; reading the one proposal runs the validator.
        #expect(problems[invalid.id] == .some(nil))
        #expect(try queue.entry(invalid.id).problem?.contains("does not validate") == true)
    }

    @Test("a proposal read once carries the digest of exactly the bytes read")
    func digestOfTheRead() async throws {
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let bytes = try #require(FileManager.default.contents(atPath: proposalPath(queue, proposal.id).string))
        let entry = try queue.entry(proposal.id)
        #expect(entry.proposalSHA256 == SHA256Hex.of(bytes))
        #expect(try queue.liveProposalSHA256(proposal.id) == SHA256Hex.of(bytes))
        #expect(entry.problem == nil)
    }
}

/// Runs `body` on its own thread and fails if it has not returned within
/// `seconds`: a read that blocks (a FIFO, a device) fails the test instead
/// of hanging the suite.
func withDeadline<T: Sendable>(seconds: Double = 5, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let box = DeadlineBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        box.set(Result { try body() })
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
        throw DeadlineExceeded()
    }
    return try result.get()
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var description: String { "did not return before its deadline: it blocked" }
}

private final class DeadlineBox<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access goes through the lock.
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ result: Result<T, any Error>) { lock.withLock { value = result } }
    func get() -> Result<T, any Error>? { lock.withLock { value } }
}
