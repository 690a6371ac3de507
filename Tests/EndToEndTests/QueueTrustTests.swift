import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

/// The host commands against a queue a compromised sidecar tampers with, run
/// as the real binary. Each test has a deadline (the commands run with a
/// timeout) and asserts the safe outcome: nothing applied that was not
/// reviewed, nothing outside the roots read or written, no hang.
@Suite("Queue trust end to end", .serialized)
struct QueueTrustTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var allowlist: String { configRoot + "/demo/allowlist" }
    var bottle: BottleSlug { try! BottleSlug("demo") }
    var queue: BottleQueue { QueueRoot(FilePath(queueRoot)).queue(for: bottle) }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write(
            "[reload.allowlist]\ncommand = [\"true\"]\n[reload.dockerfile]\ncommand = [\"true\"]\n",
            at: "bottles/demo/supervise.toml")
    }

    @discardableResult
    func propose(_ file: String = "api.github.com\npypi.org\n") async throws -> Proposal {
        let proposal = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: file, justification: "pip needs PyPI",
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await queue.submit(proposal)
        return proposal
    }

    func cli(_ arguments: String..., timeout: Duration = .seconds(20)) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot, timeout: timeout)
    }

    /// What a compromised sidecar does: renames another proposal file over `id`'s, here another tool's.
    func swapInDockerfile(for id: ProposalID) throws {
        let swapped = Proposal(
            id: id, bottle: bottle, tool: .capabilityBlock, proposedFile: "FROM alpine:3.20\nRUN echo pwned\n",
            justification: "pip needs PyPI", currentFileSHA256: nil)
        let temp = queue.directory.appending(".swap.tmp").string
        try QueueFormat.encode(swapped).write(to: URL(fileURLWithPath: temp))
        #expect(rename(temp, queue.directory.appending("\(id).proposal.json").string) == 0)
    }

    func nothingApplied(_ id: ProposalID) throws {
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")
        #expect(!FileManager.default.fileExists(atPath: configRoot + "/demo/Dockerfile"))
        #expect(try queue.decision(id) == nil)
    }

    @Test("a proposal replaced between show and approve --expect-sha256 exits 5 and writes nothing")
    func replacedBetweenShowAndApprove() async throws {
        let proposal = try await propose()
        let shown = try cli("show", proposal.id.rawValue)
        #expect(shown.status == 0, "\(shown.err)")
        let line = try #require(shown.out.split(separator: "\n").first { $0.hasPrefix("sha256") })
        let digest = String(line.split(separator: " ").last ?? "")
        #expect(SHA256Hex.isWellFormed(digest))
        #expect(shown.out.contains("--expect-sha256 \(digest)"))

        try swapInDockerfile(for: proposal.id)
        let approved = try cli("approve", proposal.id.rawValue, "--expect-sha256", digest)
        #expect(approved.status == 5, "\(approved.err)")
        #expect(approved.err.contains("not the one reviewed"))
        let rejected = try cli("reject", proposal.id.rawValue, "--notes", "no", "--expect-sha256", digest)
        #expect(rejected.status == 5)
        let modified = try cli(
            "modify", proposal.id.rawValue, "--file", allowlist, "--expect-sha256", digest.uppercased())
        #expect(modified.status == 5)
        #expect(try cli("approve", proposal.id.rawValue, "--expect-sha256", "not-a-digest").status == 2)
        // Without --expect-sha256 the decision is bound to what `show` displayed last.
        let plain = try cli("approve", proposal.id.rawValue)
        #expect(plain.status == 5, "\(plain.err)")
        #expect(plain.err.contains("changed in the queue since `show` displayed it"))
        #expect(try cli("reject", proposal.id.rawValue, "--notes", "no").status == 5)
        try nothingApplied(proposal.id)
    }

    @Test("approve --expect-sha256 with the digest show printed applies exactly that file")
    func boundApproval() async throws {
        let proposal = try await propose()
        let digest = try queue.entry(proposal.id).proposalSHA256 ?? ""
        let approved = try cli("approve", proposal.id.rawValue, "--expect-sha256", digest)
        #expect(approved.status == 0, "\(approved.err)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\npypi.org\n")
        #expect(try queue.decision(proposal.id)?.proposalSHA256 == digest)
    }

    @Test("a forged proposed_file_sha256 is listed as refused, an invalid file shown as refused; neither is applied")
    func refusedContent() async throws {
        var forged = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\nevil.example\n",
            justification: "forged", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        forged.proposedFileSHA256 = SHA256Hex.of("api.github.com\npypi.org\n")
        let invalid = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\nbad\u{0}\u{1B}]0;x\u{07}\n",
            justification: "invalid", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        try AtomicFile.makeDirectory(queue.directory.appending("archive"))
        for proposal in [forged, invalid] {
            try QueueFormat.encode(proposal).write(
                to: URL(fileURLWithPath: queue.directory.appending("\(proposal.id).proposal.json").string))
        }
        let listed = try cli("list")
        #expect(listed.status == 0)
        let row = listed.out.split(separator: "\n").first { $0.contains(forged.id.rawValue) } ?? ""
        #expect(row.contains("refused"), "\(listed.out)")
        for proposal in [forged, invalid] {
            let shown = try cli("show", proposal.id.rawValue)
            #expect(shown.out.contains("refused "), "\(shown.out)")
            #expect(!shown.out.contains("\u{1B}"))
        }
        #expect(!listed.out.contains("\u{1B}"))
        for proposal in [forged, invalid] {
            let approved = try cli("approve", proposal.id.rawValue)
            #expect(approved.status == 1, "\(approved.err)")
            #expect(approved.err.contains("refused"))
            try nothingApplied(proposal.id)
        }
        #expect(!FileManager.default.fileExists(atPath: queueRoot + "/audit.log"))
    }

    @Test("an 8 MiB hash field is refused unread and never reaches the audit log")
    func hugeField() async throws {
        let real = try await propose()
        var forged = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\nhuge.example\n",
            justification: "huge", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        forged.proposedFileSHA256 = String(repeating: "f", count: 8 << 20)
        try QueueFormat.encode(forged).write(
            to: URL(fileURLWithPath: queue.directory.appending("\(forged.id).proposal.json").string))
        let listed = try cli("list")
        #expect(listed.status == 0)
        #expect(listed.err.contains("the limit is"))
        #expect(listed.err.count < 4096)
        #expect(try cli("approve", forged.id.rawValue).status == 1)
        #expect(try cli("reject", real.id.rawValue, "--notes", "no").status == 0)
        let log = try String(contentsOfFile: queueRoot + "/audit.log", encoding: .utf8)
        #expect(log.count < 4096)
        #expect(!log.contains("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"))
    }

    @Test("FIFOs named like a proposal and a decision never hang list, show or reject")
    func fifos() async throws {
        let proposal = try await propose()
        let other = try await propose("api.github.com\nnpmjs.org\n")
        let fifoID = "20260101-000000-00000000f1f0"
        #expect(mkfifo(queue.directory.appending("\(fifoID).proposal.json").string, 0o644) == 0)
        #expect(mkfifo(queue.directory.appending("\(other.id).decision.json").string, 0o644) == 0)
        let listed = try cli("list", "--all", timeout: .seconds(15))
        #expect(listed.status == 0)
        #expect(listed.out.contains(proposal.id.rawValue))
        #expect(listed.err.contains("a FIFO, not a regular file"))
        #expect(try cli("show", fifoID, timeout: .seconds(15)).status == 1)
        #expect(try cli("show", other.id.rawValue, timeout: .seconds(15)).status == 1)
        #expect(try cli("reject", other.id.rawValue, "--notes", "no", timeout: .seconds(15)).status == 1)
        #expect(try cli("reject", proposal.id.rawValue, "--notes", "no", timeout: .seconds(15)).status == 0)
    }

    @Test("a symlinked proposal, archive/ and slug directory are not followed")
    func symlinks() async throws {
        // A valid proposal kept outside the roots: only a link would make it count.
        let outside = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\nexfil.example\n",
            justification: "linked", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        let outsidePath = scratch.write(
            String(decoding: try QueueFormat.encode(outside), as: UTF8.self), at: "outside/proposal.json")
        try await propose()
        #expect(symlink(outsidePath, queue.directory.appending("\(outside.id).proposal.json").string) == 0)
        let listed = try cli("list")
        #expect(!listed.out.contains(outside.id.rawValue))
        #expect(listed.err.contains("symbolic link"))
        #expect(try cli("approve", outside.id.rawValue).status == 1)
        try nothingApplied(outside.id)

        // archive/ as a link to a directory outside: neither read nor written.
        #expect(rmdir(queue.directory.appending("archive").string) == 0)
        #expect(symlink(scratch.path + "/outside", queue.directory.appending("archive").string) == 0)
        let all = try cli("list", "--all")
        #expect(all.err.contains("not a real directory"))
        // A slug directory that is a link to another bottle's queue.
        #expect(symlink(queue.directory.string, queueRoot + "/evil") == 0)
        let again = try cli("list")
        #expect(again.err.contains("a symbolic link where a bottle's queue directory belongs"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/outside") == ["proposal.json"])
    }

    @Test("an apply killed with -9 during a slow reload is finished by the next host command, and the agent answered")
    func interruptedApply() async throws {
        let reloadPID = scratch.path + "/reload.pid"
        scratch.write(
            "[reload.allowlist]\ncommand = [\"sh\", \"-c\", \"echo $$ > \(reloadPID); exec sleep 30\"]\ntimeout = 60\n",
            at: "bottles/demo/supervise.toml")
        let proposal = try await propose()
        let waiter = Task { try await DecisionWaiter(queue: queue).decision(for: proposal.id) }
        let pid = try ApplyFixtures.spawn(
            [BuiltBinary.path, "approve", proposal.id.rawValue],
            environment: ["SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": configRoot])
        let reloading = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? queue.decision(proposal.id))?.apply?.state == .pending
                && FileManager.default.fileExists(atPath: reloadPID)
        }
        #expect(reloading, "the apply never reached its reload")
        #expect(kill(pid, SIGKILL) == 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        // The reload child outlives its parent; it is ours to end.
        if let text = try? String(contentsOfFile: reloadPID, encoding: .utf8), let child = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(child, SIGKILL)
        }
        #expect(try queue.decision(proposal.id)?.isFinal == false)

        let listed = try cli("list")
        #expect(listed.err.contains("finished an interrupted apply of \(proposal.id)"))
        let decision = try #require(try queue.decision(proposal.id))
        #expect(decision.apply?.state == .failed)
        #expect(decision.isFinal)
        let answered = Task {
            try await Task.sleep(for: .seconds(10))
            waiter.cancel()
        }
        let answer = try await waiter.value
        answered.cancel()
        #expect(answer.apply?.state == .failed)
        #expect(try cli("list").err.isEmpty, "recovery ran twice")
    }
}
