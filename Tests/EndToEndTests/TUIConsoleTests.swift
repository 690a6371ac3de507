import Foundation
import Queue
import SystemPackage
import Testing

/// The real `bottle-supervise console` in a real terminal (tmux), as an operator uses it.
@Suite(
    "Console TUI end to end", .serialized,
    .enabled(if: Tmux.isInstalled, "tmux is not installed (scripts/test installs it)"))
struct TUIConsoleTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        try! FileManager.default.createDirectory(atPath: queueRoot, withIntermediateDirectories: true)
    }

    func queue(_ bottle: String = "demo") -> BottleQueue {
        QueueRoot(FilePath(queueRoot)).queue(for: try! BottleSlug(bottle))
    }

    @discardableResult
    func propose(
        _ file: String = "api.github.com\npypi.org\n", justification: String = "pip needs PyPI", bottle: String = "demo"
    ) async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug(bottle), tool: .pipelockBlock, proposedFile: file, justification: justification,
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await queue(bottle).submit(proposal)
        return proposal
    }

    /// Where the running console writes its process id (the shell's `$$` before `exec`).
    var pidFile: String { scratch.path + "/console.pid" }

    func startConsole(
        environment: [String: String] = [:], columns: Int = 120, arguments: String = ""
    ) async throws -> Tmux {
        let tmux = try Tmux(columns: columns, environment: environment)
        try tmux.type(
            "sh -c 'echo $$ > \(pidFile); exec \(BuiltBinary.path) console --no-bell --queue-root \(queueRoot) --config-root \(configRoot) \(arguments)'",
            enter: true)
        try await tmux.waitFor("Bottle Supervise —")
        return tmux
    }

    /// The running console's process id.
    func consolePID() throws -> pid_t {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    func waitForDecision(_ id: ProposalID) async throws -> Decision {
        for _ in 0..<200 {
            if let decision = try queue().decision(id) { return decision }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw QueueError.noSuchProposal(id.rawValue)
    }

    @Test("without a cache the console fills one; with list's it opens on the same list and decides as usual")
    func listingCache() async throws {
        let first = try await propose()
        let second = try await propose("api.github.com\nfiles.pythonhosted.org\n", justification: "wheels too")
        // The cache keeps a file only once its last change is 2 s old.
        try await Task.sleep(for: .milliseconds(2_100))

        // Started without a cache, the console writes one in the background for its next start.
        let cold = scratch.path + "/cache-cold"
        let coldConsole = try await startConsole(environment: ["XDG_CACHE_HOME": cold])
        try await coldConsole.waitFor("2 pending in 1 bottle")
        var filled = false
        for _ in 0..<100 where !filled {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: cold + "/bottle-supervise")) ?? []
            filled = names.contains { name in
                let text = try? String(contentsOfFile: cold + "/bottle-supervise/" + name, encoding: .utf8)
                return name.hasPrefix("listing-") && text?.contains(first.id.rawValue) == true
                    && text?.contains(second.id.rawValue) == true
            }
            if !filled { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(filled, "no cache written within 10 s")
        try coldConsole.type("q")

        // `list` writes one too; the console's first screen comes from it (ConsoleView.renderPreview),
        // then it is the console as ever.
        let warm = scratch.path + "/cache-warm"
        let listed = try ApplyFixtures.run(
            [BuiltBinary.path, "list", "--queue-root", queueRoot, "--config-root", configRoot],
            environment: ["XDG_CACHE_HOME": warm], timeout: .seconds(60))
        #expect(listed.status == 0)
        let cacheFiles = try FileManager.default.contentsOfDirectory(atPath: warm + "/bottle-supervise")
        #expect(try String(contentsOfFile: warm + "/bottle-supervise/" + (cacheFiles.first ?? ""), encoding: .utf8)
            .contains(first.id.rawValue))
        let tmux = try await startConsole(environment: ["XDG_CACHE_HOME": warm])
        let screen = try await tmux.waitFor("2 pending in 1 bottle")
        #expect(screen.contains("pip needs PyPI") && screen.contains("wheels too"))
        try tmux.press("Enter")
        let detail = try await tmux.waitFor("Justification")
        #expect(detail.contains("pypi.org"))
        try tmux.type("a")
        try await tmux.waitFor("(y/n)")
        try tmux.type("y")
        #expect(try await waitForDecision(first.id).status == .approved)
        #expect(try queue().decision(second.id) == nil)
    }

    @Test("a proposal appears live, its review shows the file, and approve reaches the queue")
    func liveAndApprove() async throws {
        let tmux = try await startConsole()
        try await tmux.waitFor("0 pending")
        let proposal = try await propose()
        try await tmux.waitFor("pip needs PyPI", timeout: .seconds(3))
        try tmux.press("Enter")
        let detail = try await tmux.waitFor("Justification")
        #expect(detail.contains("pypi.org"))
        try tmux.type("a")
        try await tmux.waitFor("(y/n)")
        try tmux.type("y")
        let decision = try await waitForDecision(proposal.id)
        #expect(decision.status == .approved)
        #expect(decision.decidedBy.isEmpty == false)
        try await tmux.waitFor("approved pipelock-block for demo")
    }

    @Test("modify opens $EDITOR on the proposed file; the edited file is what gets approved")
    func modifyWithEditor() async throws {
        let editor = scratch.write(
            "#!/bin/sh\nprintf 'api.github.com\\nfiles.pythonhosted.org\\n' > \"$1\"\n", at: "editor.sh",
            executable: true)
        let proposal = try await propose()
        let tmux = try await startConsole(environment: ["EDITOR": editor, "VISUAL": editor])
        try await tmux.waitFor("pip needs PyPI")
        try tmux.type("m")
        try await tmux.waitFor("Approve your modified allowlist? (y/n)")
        #expect(try tmux.screen().contains("files.pythonhosted.org"))
        try tmux.type("y")
        let decision = try await waitForDecision(proposal.id)
        #expect(decision.status == .modified)
        #expect(decision.finalFile == "api.github.com\nfiles.pythonhosted.org\n")
    }

    @Test("after a modify, the review shows what was applied, the operator's host as added, and offers no decision")
    func decidedReview() async throws {
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
        let editor = scratch.write(
            "#!/bin/sh\nprintf 'api.github.com\\nfiles.pythonhosted.org\\n' > \"$1\"\n", at: "editor.sh",
            executable: true)
        let proposal = try await propose()
        let tmux = try await startConsole(environment: ["EDITOR": editor, "VISUAL": editor], columns: 160)
        try await tmux.waitFor("pip needs PyPI")
        try tmux.press("Enter")
        try await tmux.waitFor("Justification")
        try tmux.type("m")
        try await tmux.waitFor("Approve your modified allowlist? (y/n)")
        try tmux.type("y")
        #expect(try await waitForDecision(proposal.id).status == .modified)
        let screen = try await tmux.waitFor("nothing to decide")
        #expect(screen.contains("What was applied: the modified allowlist, against the one it replaced"), "\(screen)")
        #expect(screen.contains("host added: files.pythonhosted.org"), "\(screen)")
        #expect(!screen.contains("removed: files.pythonhosted.org"), "\(screen)")
        #expect(!screen.contains("current file changed"), "\(screen)")
        #expect(!screen.contains("a approve"), "\(screen)")
        try tmux.type("a")
        try await tmux.waitFor("already modified")
    }

    @Test("reject asks for notes and sends them")
    func reject() async throws {
        let proposal = try await propose()
        let tmux = try await startConsole()
        try await tmux.waitFor("pip needs PyPI")
        try tmux.type("r")
        try await tmux.waitFor("notes for the agent (required)")
        try tmux.type("use the internal mirror", enter: true)
        let decision = try await waitForDecision(proposal.id)
        #expect(decision.status == .rejected)
        #expect(decision.notes == "use the internal mirror")
    }

    @Test("a proposal withdrawn by its agent changes state in place and can't be decided")
    func withdrawn() async throws {
        let proposal = try await propose()
        let tmux = try await startConsole()
        try await tmux.waitFor("pip needs PyPI")
        try queue().decide(Decision(id: proposal.id, status: .withdrawn, decidedBy: "agent"))
        try await tmux.waitFor("withdrawn")
        try tmux.type("a")
        try await tmux.waitFor("already withdrawn")
        #expect(try queue().decision(proposal.id)?.status == .withdrawn)
    }

    @Test("control characters in a justification arrive visibly escaped")
    func hostileJustification() async throws {
        try await propose(justification: "please\u{1B}[2J\u{1B}]52;c;cHduZWQ=\u{07}\u{202E}gnp.exe")
        let tmux = try await startConsole()
        let screen = try await tmux.waitFor("please")
        #expect(screen.contains("please\\e[2J\\e]52;c;cHduZWQ=\\x07\\u{202e}gnp.exe"))
        #expect(screen.contains("Bottle Supervise —"), "the screen was cleared by the agent's text")
    }

    /// Once the console is gone, asks the shell in the pane which of echo and canonical mode are on
    /// (`echo icanon` when the terminal was given back); returns the screen.
    func terminalModes(after tmux: Tmux) async throws -> String {
        try await Task.sleep(for: .milliseconds(300))
        try tmux.type(
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | sort | tr '\\n' ' '; echo DONE-$((1+1))",
            enter: true)
        return try await tmux.waitFor("DONE-2")
    }

    @Test("quitting gives the terminal back: prompt, echo and canonical mode restored")
    func restoresTerminal() async throws {
        let tmux = try await startConsole()
        try tmux.type("q")
        let screen = try await terminalModes(after: tmux)
        #expect(screen.contains("echo icanon DONE-2"))
        #expect(!screen.contains("Bottle Supervise —"), "still on the console's alternate screen")
    }

    @Test("SIGTERM gives the terminal back too")
    func restoresOnTerminate() async throws {
        let tmux = try await startConsole()
        #expect(kill(try consolePID(), SIGTERM) == 0, "no console process to terminate")
        #expect(try await terminalModes(after: tmux).contains("echo icanon DONE-2"))
    }

    @Test("SIGHUP (the terminal window closed) gives the terminal back as well")
    func restoresOnHangUp() async throws {
        let tmux = try await startConsole()
        #expect(kill(try consolePID(), SIGHUP) == 0, "no console process to hang up")
        #expect(try await terminalModes(after: tmux).contains("echo icanon DONE-2"))
    }

    @Test("a bottle whose queue directory appears after the console started is picked up live")
    func newBottle() async throws {
        let tmux = try await startConsole()
        try await tmux.waitFor("0 pending")
        try await propose(justification: "a brand new bottle asks", bottle: "late-bottle")
        let screen = try await tmux.waitFor("a brand new bottle asks", timeout: .seconds(3))
        #expect(screen.contains("late-bottle"))
    }

    @Test("a narrow window is followed on resize, lines cut to its width")
    func resize() async throws {
        try await propose(justification: "pip needs PyPI " + String(repeating: "and more words ", count: 20))
        let tmux = try await startConsole()
        try await tmux.waitFor("pip needs PyPI")
        try Tmux.run(["resize-window", "-t", tmux.name, "-x", "50", "-y", "20"])
        let narrow = try await tmux.waitFor("…")
        let lines = narrow.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 50 })
        #expect(narrow.contains("Bottle Supervise"))
        try Tmux.run(["resize-window", "-t", tmux.name, "-x", "120", "-y", "40"])
        try await tmux.waitFor("and more words and more words and more words")
    }

    @Test("--filter opens the list narrowed to a bottle or tool")
    func filterOption() async throws {
        try await propose(justification: "from the first bottle", bottle: "alpha")
        try await propose(justification: "from the second bottle", bottle: "beta")
        let tmux = try await startConsole(arguments: "--filter beta")
        let screen = try await tmux.waitFor("from the second bottle")
        #expect(!screen.contains("from the first bottle"))
        #expect(screen.contains("filter: beta"))
    }
}
