import Foundation
import Testing

/// `bottle-supervise ask`: the operator plays the agent from the host, over MCP's Streamable HTTP,
/// against a real `serve`; the operator decides with the CLI.
@Suite("ask: an MCP client from the host", .serialized)
struct AskTests {
    @Test("ask → the proposal is queued with its file and justification → approved → ask prints the answer, exit 0")
    func approved() throws {
        let bottle = try ServedBottle()
        let (id, asked) = try bottle.ask("api.github.com\npypi.org\n", justification: "pip needs pypi.org")
        let shown = try bottle.operatorCommand(["show", id, "--json"])
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains("\"proposed_file\" : \"api.github.com\\npypi.org\\n\""), "\(shown.out)")
        #expect(shown.out.contains("\"justification\" : \"pip needs pypi.org\""), "\(shown.out)")
        let approved = try bottle.operatorCommand(["approve", id, "--notes", "go ahead"])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        let answer = try asked.finish(timeout: 60)
        #expect(answer.status == 0, "\(answer.out)\(answer.err)")
        #expect(answer.out.contains("status: approved"), "\(answer.out)")
        #expect(answer.out.contains("proposal: \(id)"), "\(answer.out)")
        #expect(answer.out.contains("notes: go ahead"), "\(answer.out)")
        #expect(answer.out.contains("apply: applied"), "\(answer.out)")
    }

    @Test("a held call answered 'pending' (hold limit 1 s): ask waits on with proposal-status; a rejection exits 1 with the notes")
    func pendingThenRejected() async throws {
        let bottle = try ServedBottle(arguments: ["--hold-limit", "1"])
        let (id, asked) = try bottle.ask("api.github.com\nevil.example\n", justification: "needs evil.example")
        // Past the hold limit: ask has been answered 'pending' and waits with proposal-status.
        let said = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            asked.errorSoFar.contains("is pending")
        }
        #expect(said, "ask never said the proposal is pending")
        #expect(asked.process.isRunning, "ask gave up on a pending proposal")
        let rejected = try bottle.operatorCommand(["reject", id, "--notes", "not that host"])
        #expect(rejected.status == 0, "\(rejected.err)")
        let answer = try asked.finish(timeout: 60)
        #expect(answer.status == 1, "\(answer.out)\(answer.err)")
        #expect(answer.out.contains("status: rejected"), "\(answer.out)")
        #expect(answer.out.contains("notes: not that host"), "\(answer.out)")
        #expect(answer.err.contains("bottle-supervise ask: the answer is rejected"), "\(answer.err)")
    }

    @Test("--no-wait prints the pending answer with its id; ask --status ID then waits for the decision")
    func noWaitThenStatus() throws {
        let bottle = try ServedBottle(arguments: ["--hold-limit", "1"])
        let file = bottle.scratch.write("api.github.com\npypi.org\n", at: "proposed-allowlist")
        let first = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", file, "--justification", "pip", "--url", bottle.url, "--no-wait"],
            timeout: .seconds(30))
        #expect(first.status == 0, "\(first.out)\(first.err)")
        #expect(first.out.contains("status: pending"), "\(first.out)")
        let id = try #require(try bottle.waitForPending().first)
        #expect(first.out.contains("proposal: \(id)"), "\(first.out)")
        let waiting = try BackgroundCommand([BuiltBinary.path, "ask", "--status", id, "--url", bottle.url])
        #expect(try bottle.operatorCommand(["approve", id]).status == 0)
        let answer = try waiting.finish(timeout: 60)
        #expect(answer.status == 0, "\(answer.out)\(answer.err)")
        #expect(answer.out.contains("status: approved"), "\(answer.out)")
    }

    @Test("the sidecar's validation refuses the file: ask prints why and exits 1; nothing is queued")
    func refusedByValidation() throws {
        let bottle = try ServedBottle()
        let file = bottle.scratch.write("api.github.com\nhttps://not a host/\n", at: "bad-allowlist")
        let answer = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", file, "--justification", "x", "--url", bottle.url],
            timeout: .seconds(30))
        #expect(answer.status == 1, "\(answer.out)\(answer.err)")
        #expect(
            answer.err.contains("bottle-supervise ask: the sidecar refused the call to pipelock-block: pipelock-block: allowlist line 2"),
            "the validator's message, with the line: \(answer.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bottle.queueDirectory).filter { $0.hasSuffix(".proposal.json") }.isEmpty)
    }

    @Test("usage and reachability: a bad --url or tool exits 2 naming it; nothing listening exits 1 naming the URL")
    func usageAndReachability() throws {
        let scratch = Scratch()
        let file = scratch.write("api.github.com\n", at: "allowlist")
        let badURL = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", file, "--justification", "x", "--url", "ftp://host/mcp"])
        #expect(badURL.status == 2, "\(badURL.err)")
        #expect(badURL.err.contains("--url"), "\(badURL.err)")
        let badTool = try ApplyFixtures.run([BuiltBinary.path, "ask", "curl-block", file, "--justification", "x"])
        #expect(badTool.status == 2, "\(badTool.err)")
        #expect(badTool.err.contains("curl-block"), "\(badTool.err)")
        let noJustification = try ApplyFixtures.run([BuiltBinary.path, "ask", "pipelock-block", file])
        #expect(noJustification.status == 2, "\(noJustification.err)")
        #expect(noJustification.err.contains("--justification"), "\(noJustification.err)")
        let port = try DeployedBottle.freePort()
        let unreachable = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", file, "--justification", "x", "--url", "http://127.0.0.1:\(port)/mcp"],
            timeout: .seconds(30))
        #expect(unreachable.status == 1, "\(unreachable.err)")
        #expect(unreachable.err.hasPrefix("bottle-supervise ask: cannot reach http://127.0.0.1:\(port)/mcp"), "\(unreachable.err)")
        let fifo = scratch.path + "/fifo"
        mkfifo(fifo, 0o600)
        let notAFile = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", fifo, "--justification", "x", "--url", "http://127.0.0.1:\(port)/mcp"],
            timeout: .seconds(10))
        #expect(notAFile.status == 1, "\(notAFile.err)")
        #expect(notAFile.err.contains("is not a regular file"), "\(notAFile.err)")
    }

    @Test("a hostile sidecar's answer (an event stream with escape sequences) is read and printed escaped")
    func hostileAnswerIsEscaped() async throws {
        let scratch = Scratch()
        let server = try BackgroundCommand(["/usr/bin/python3", PythonClient.repoRoot + "/Tests/EndToEndTests/python/hostile_sidecar.py"])
        defer { server.process.terminate() }
        let started = await ApplyFixtures.eventually(timeout: .seconds(10)) { server.outputSoFar.contains("\n") }
        let port = try #require(started ? Int(server.outputSoFar.trimmingCharacters(in: .whitespacesAndNewlines)) : nil)
        let file = scratch.write("api.github.com\n", at: "allowlist")
        let answer = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "pipelock-block", file, "--justification", "x", "--url", "http://127.0.0.1:\(port)/mcp"],
            timeout: .seconds(30))
        #expect(answer.status == 0, "\(answer.out)\(answer.err)")
        #expect(answer.out.contains("status: approved"), "the response found in the event stream: \(answer.out)")
        #expect(!answer.out.contains("\u{1B}") && !answer.out.contains("\u{7}") && !answer.out.contains("\u{202E}"), "\(answer.out)")
        #expect(answer.out.contains("\\e[2J"), "shown, not obeyed: \(answer.out)")
    }
}
