import Foundation
import Queue
import SystemPackage
import Testing

/// Notifications against a local HTTP receiver: once per proposal across
/// watchers, retried until delivered, never in a decision's way.
@Suite("Notifications end to end", .serialized)
struct NotificationsTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var receiverLog: String { scratch.path + "/received.jsonl" }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
        try! FileManager.default.createDirectory(atPath: queueRoot, withIntermediateDirectories: true)
    }

    /// Starts the receiver fixture in `mode`; returns its pid and port.
    func startReceiver(_ mode: String) async throws -> (pid: pid_t, port: Int) {
        let portFile = scratch.path + "/receiver.port"
        let python = ProcessInfo.processInfo.environment["SUPERVISE_TEST_PYTHON"] ?? "python3"
        let pid = try ApplyFixtures.spawn([python, ApplyFixtures.path("notification_receiver.py"), portFile, receiverLog, mode])
        let started = await ApplyFixtures.eventually(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: portFile) }
        guard started, let port = Int(try String(contentsOfFile: portFile, encoding: .utf8)) else {
            kill(pid, SIGKILL)
            throw POSIXError(.ETIMEDOUT)
        }
        return (pid, port)
    }

    func settings(port: Int, extra: String = "") -> String {
        scratch.write(
            "[notify]\nconsole_url = \"https://console.example\"\n\(extra)\n[[notify.webhook]]\nurl = \"http://127.0.0.1:\(port)/hook\"\n",
            at: "host.toml")
    }

    func received() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: receiverLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Starts `bottle-supervise notify`; returns once it watches.
    func startWatcher(settings: String, name: String) async throws -> pid_t {
        let log = scratch.path + "/\(name).err"
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let pid = try ApplyFixtures.spawn(
            [BuiltBinary.path, "notify", "--settings", settings, "--queue-root", queueRoot, "--config-root", configRoot],
            stderr: fd)
        let watching = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("watching")
        }
        if !watching { kill(pid, SIGKILL) }
        try #require(watching, "notify did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return pid
    }

    func stop(_ pids: pid_t...) {
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    @discardableResult
    func propose(_ host: String, justification: String = "pip needs it") async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\n\(host)\n",
            justification: justification, currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        return proposal
    }

    @Test("two watchers running: each proposal is announced exactly once, with the documented fields")
    func oncePerProposal() async throws {
        let receiver = try await startReceiver("ok")
        defer { stop(receiver.pid) }
        let file = settings(port: receiver.port, extra: "coalesce_window = 1")
        let first = try await startWatcher(settings: file, name: "first")
        let second = try await startWatcher(settings: file, name: "second")
        defer { stop(first, second) }

        var ids: Set<String> = []
        for host in ["pypi.org", "webhook.site", "files.pythonhosted.org"] {
            ids.insert(try await propose(host, justification: "needs it <!channel> \u{1B}[2J").id.rawValue)
        }
        func bodies() -> [[String: Any]] {
            received().compactMap { ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
        }
        func announced() -> [String] { bodies().flatMap { $0["ids"] as? [String] ?? [] } }
        let all = await ApplyFixtures.eventually(timeout: .seconds(15)) { announced().count >= 3 }
        #expect(all)
        try await Task.sleep(for: .seconds(1.5))  // a duplicate would arrive within this
        #expect(announced().sorted() == ids.sorted(), "each proposal once, in one message or another")
        #expect(bodies().map { $0["count"] as? Int ?? 0 }.reduce(0, +) == 3)
        // (How a burst is gathered is per watcher, on an injected clock: AnnouncementScheduleTests.)
        let requests = received()
        let risky = try #require(
            bodies().first { ($0["summary"] as? [String])?.contains("host added: webhook.site") == true }
                ?? bodies().first { ($0["ids"] as? [String])?.count ?? 0 > 1 })
        #expect(risky["highest_risk"] as? String == "critical")
        #expect(risky["bottle"] as? String == "demo")
        #expect(risky["file"] as? String == "allowlist")
        #expect((risky["link"] as? String)?.hasPrefix("https://console.example/proposals/") == true)
        #expect((risky["justification"] as? String)?.contains("\u{1B}") == false)
        #expect(requests.allSatisfy { $0["path"] as? String == "/hook" })
    }

    @Test("a receiver that fails five times and then succeeds gets the notification once")
    func retriedUntilDelivered() async throws {
        let receiver = try await startReceiver("fail:5")
        defer { stop(receiver.pid) }
        let watcher = try await startWatcher(
            settings: settings(port: receiver.port, extra: "retry_delay = 0.05\nattempts = 8"), name: "watcher")
        defer { stop(watcher) }
        try await propose("pypi.org")
        let delivered = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            received().contains { $0["status"] as? Int == 200 }
        }
        #expect(delivered)
        try await Task.sleep(for: .milliseconds(500))
        let requests = received()
        #expect(requests.count == 6)
        #expect(requests.filter { $0["status"] as? Int == 200 }.count == 1)
    }

    @Test(
        "a receiver that hangs never delays a decision in the console",
        .enabled(if: Tmux.isInstalled, "tmux is not installed (scripts/test installs it)"))
    func hangingReceiver() async throws {
        let receiver = try await startReceiver("hang")
        defer { stop(receiver.pid) }
        let file = settings(port: receiver.port, extra: "timeout = 120")
        let tmux = try Tmux(columns: 120, environment: [:])
        try tmux.type(
            "exec \(BuiltBinary.path) console --no-bell --settings \(file) --queue-root \(queueRoot) --config-root \(configRoot)",
            enter: true)
        try await tmux.waitFor("Bottle Supervise —")
        let proposal = try await propose("pypi.org")
        // How soon the proposal shows is not this test's point (15 s: a loaded CI machine); the decision's delay is.
        try await tmux.waitFor("pip needs it", timeout: .seconds(15))
        // The receiver holds the notification's request open from here on.
        #expect(await ApplyFixtures.eventually(timeout: .seconds(10)) { received().count == 1 })
        let start = ContinuousClock.now
        try tmux.type("a")
        try await tmux.waitFor("(y/n)", timeout: .seconds(5))
        try tmux.type("y")
        let queue = QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle)
        let decided = await ApplyFixtures.eventually(timeout: .seconds(5)) { (try? queue.decision(proposal.id)) != nil }
        #expect(decided)
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
