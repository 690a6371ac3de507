import Foundation
import Queue
import SystemPackage
import Testing

/// The scriptable commands, run as the real binary: what they print and the exit statuses PRODUCT.md fixes.
@Suite("CLI end to end")
struct CLITests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        // A harmless reload action, so approvals apply without containers.
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
    }

    @discardableResult
    func propose(_ file: String = "api.github.com\npypi.org\n", justification: String = "pip needs PyPI") async throws
        -> Proposal
    {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: file, justification: justification,
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        return proposal
    }

    func cli(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot)
    }

    @Test("list shows pending proposals with escaped justifications; --json is the documented shape")
    func list() async throws {
        let proposal = try await propose(justification: "needs PyPI\u{1B}[2J\u{202E}")
        let table = try cli("list")
        #expect(table.status == 0)
        #expect(table.out.contains(proposal.id.rawValue))
        #expect(table.out.contains("needs PyPI\\e[2J\\u{202e}"))
        #expect(!table.out.contains("\u{1B}"))
        let json = try cli("list", "--json")
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(document["format"] as? Int == 1)
        let item = try #require((document["proposals"] as? [[String: Any]])?.first)
        #expect(item["id"] as? String == proposal.id.rawValue)
        #expect(item["state"] as? String == "pending")
        #expect(item["tool"] as? String == "pipelock-block")
        #expect(item["file"] as? String == "allowlist")
    }

    @Test("list keeps its cache in XDG_CACHE_HOME, and shows a proposal the sidecar rewrote in place as it is now")
    func listingCache() async throws {
        let proposal = try await propose(justification: "pip needs PyPI")
        // The cache records a file only once its last change is 2 s old (docs/security.md).
        try await Task.sleep(for: .milliseconds(2_100))
        let cacheHome = scratch.path + "/cache"
        func list() throws -> (status: Int32, out: String, err: String) {
            try ApplyFixtures.run(
                [BuiltBinary.path, "list", "--json"],
                environment: [
                    "SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": configRoot, "XDG_CACHE_HOME": cacheHome,
                ], timeout: .seconds(60))
        }
        let first = try list()
        #expect(first.status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheHome + "/bottle-supervise")
        #expect(files.count == 1 && files.first?.hasPrefix("listing-") == true, "\(files)")
        var info = stat()
        #expect(stat(cacheHome + "/bottle-supervise/" + (files.first ?? ""), &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try list().out == first.out, "the cached listing says what the first said")

        // Same length, same inode, the modification time set back: only the change time tells.
        let path = queueRoot + "/demo/\(proposal.id).proposal.json"
        var before = stat()
        #expect(stat(path, &before) == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data(text.replacingOccurrences(of: "pip needs PyPI", with: "pip needs EVIL").utf8))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let after = try list()
        #expect(after.out.contains("pip needs EVIL"), "\(after.out)")
        #expect(!after.out.contains("pip needs PyPI"))
    }

    @Test("list, list --json and show say when the agent stopped waiting; a hostile marker is not believed")
    func stoppedWaiting() async throws {
        let proposal = try await propose()
        let queue = QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle)
        try queue.markStoppedWaiting(proposal.id)
        let stopped = try #require(queue.stoppedWaitingTime(proposal.id))
        let table = try cli("list")
        #expect(table.out.contains("stopped "), "\(table.out)")
        let json = try cli("list", "--json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let item = try #require((document["proposals"] as? [[String: Any]])?.first)
        #expect(item["stopped_waiting_at"] as? String == Timestamp.format(stopped))
        #expect(item["waiting"] as? Bool == false)
        let shown = try cli("show", proposal.id.rawValue)
        #expect(
            shown.out.contains("pending; the agent stopped waiting at \(Timestamp.format(stopped))"), "\(shown.out)")

        // A symlink in the marker's place (the queue directory is the agent's side) is ignored, not followed.
        let marker = "\(queueRoot)/demo/\(proposal.id).stopped-waiting"
        unlink(marker)
        #expect(symlink("/etc/passwd", marker) == 0)
        let hostile = try cli("list", "--json")
        let hostileDocument = try #require(
            try JSONSerialization.jsonObject(with: Data(hostile.out.utf8)) as? [String: Any])
        #expect((hostileDocument["proposals"] as? [[String: Any]])?.first?["stopped_waiting_at"] is NSNull)
        #expect(try cli("show", proposal.id.rawValue).out.contains("pending; the agent is not connected"))
    }

    @Test("show gives the summary and the diff against the current file")
    func show() async throws {
        let proposal = try await propose()
        let shown = try cli("show", proposal.id.rawValue)
        #expect(shown.status == 0)
        #expect(shown.out.contains("host added: pypi.org"))
        #expect(shown.out.contains("+pypi.org"))
        #expect(shown.out.contains(" api.github.com"))
    }

    @Test("approve applies the file; a second approve is 4; an unknown id is 3; reject without notes is 2")
    func exitStatuses() async throws {
        let proposal = try await propose()
        let approved = try cli("approve", proposal.id.rawValue, "--notes", "ok")
        #expect(approved.status == 0, "\(approved.err)")
        #expect(
            try String(contentsOfFile: configRoot + "/demo/allowlist", encoding: .utf8) == "api.github.com\npypi.org\n")
        #expect(try cli("approve", proposal.id.rawValue).status == 4)
        #expect(try cli("reject", proposal.id.rawValue, "--notes", "late").status == 4)
        #expect(try cli("show", "20200101-000000-000000000000").status == 3)
        #expect(try cli("approve", "../../etc/passwd").status == 3)
        let other = try await propose("api.github.com\nnpmjs.org\n")
        #expect(try cli("reject", other.id.rawValue).status == 2)
        #expect(try cli("modify", other.id.rawValue).status == 2)
        let listed = try cli("list", "--all")
        #expect(listed.out.contains("approved"))
    }

    @Test("modify --file approves the operator's version and the agent's final file is it")
    func modifyFromFile() async throws {
        let proposal = try await propose("api.github.com\npypi.org\nevil.example\n")
        let version = scratch.write("api.github.com\npypi.org\n", at: "mine")
        let modified = try cli("modify", proposal.id.rawValue, "--file", version, "--notes", "dropped evil.example")
        #expect(modified.status == 0, "\(modified.err)")
        let decision = try #require(
            try QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).decision(proposal.id))
        #expect(decision.status == .modified)
        #expect(decision.finalFile == "api.github.com\npypi.org\n")
        #expect(decision.apply?.state == .applied)
        let invalid = scratch.write("not a host!\n", at: "bad")
        let other = try await propose("api.github.com\nx.example\n")
        let refused = try cli("modify", other.id.rawValue, "--file", invalid)
        #expect(refused.status == 1)
        #expect(refused.err.contains("does not validate"))
    }

    @Test("two operators approving at once: exactly one wins, the other is told 4")
    func racingOperators() async throws {
        let proposal = try await propose()
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<2 {
                group.addTask { try cli("approve", proposal.id.rawValue).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.sorted() == [0, 4])
    }

    @Test("demo runs the whole loop and prints what the agent received")
    func demo() async throws {
        let state = scratch.path + "/demo"
        let run = try ApplyFixtures.run(
            ["sh", "-c", "echo a | '\(BuiltBinary.path)' demo --no-tui --state-dir '\(state)'"], timeout: .seconds(120))
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("claude mcp add --transport http supervise http://127.0.0.1:"))
        #expect(run.out.contains("The agent received:"))
        #expect(run.out.contains("status: approved"))
        #expect(
            try String(contentsOfFile: state + "/bottles/demo-bottle/allowlist", encoding: .utf8).contains("pypi.org"))
    }
}
