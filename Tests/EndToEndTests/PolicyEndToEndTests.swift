import Foundation
import Queue
import SystemPackage
import Testing

/// Standing rules and preset answers with the real sidecar, the official MCP
/// Python client and `bottle-supervise notify` as the host process that
/// applies the rules: the agent's call is answered by a rule with no human,
/// never for a critical proposal, and a preset answer reaches the agent by name.
@Suite("Policy end to end", .serialized)
struct PolicyEndToEndTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var bottleQueue: String { queueRoot + "/web" }
    var settings: String { scratch.path + "/host.toml" }

    static let policy = """
        [answers]
        use-mirror = "Use the internal mirror at pypi.internal.example instead; it is already allowed."

        [[policy.rule]]
        name = "docs"
        bottles = ["web*"]
        tool = "pipelock-block"
        hosts = ["*.readthedocs.io", "docs.python.org", "pastebin.com"]
        max_risk = "warning"
        action = "approve"
        for = "8h"
        """

    init() throws {
        scratch.write("pypi.org\n", at: "bottles/web/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/web/supervise.toml")
        try FileManager.default.createDirectory(atPath: bottleQueue, withIntermediateDirectories: true)
    }

    /// Starts `notify` (rules only, no channel) over the host; returns once it watches.
    func startRules(name: String = "notify") async throws -> pid_t {
        let log = scratch.path + "/\(name).err"
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let pid = try ApplyFixtures.spawn(
            [
                BuiltBinary.path, "notify", "--settings", settings, "--queue-root", queueRoot, "--config-root",
                configRoot,
            ], stderr: fd)
        let watching = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("watching")
        }
        if !watching { kill(pid, SIGKILL) }
        try #require(watching, "notify did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return pid
    }

    func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    func sidecar() throws -> SidecarProcess {
        try SidecarProcess(scratch: scratch, queueDirectory: bottleQueue, currentConfig: configRoot + "/web")
    }

    func allowlist() -> String { (try? String(contentsOfFile: configRoot + "/web/allowlist", encoding: .utf8)) ?? "" }

    @Test("a rule approves a low-risk allowlist addition: the agent's call returns approved with no human")
    func ruleApproves() async throws {
        scratch.write(Self.policy, at: "host.toml")
        let rules = try await startRules()
        defer { stop(rules) }
        let sidecar = try sidecar()
        let file = scratch.write("pypi.org\ndocs.python.org\n", at: "proposed-allowlist")
        let started = Date()
        let answer = try PythonClient.Run(["call", sidecar.url, "auto", "pipelock-block", file]).finish(timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(answer["isError"] as? Bool == false, "\(answer)")
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "approved")
        #expect(structured["decided_by"] as? String == "policy:docs")
        #expect((structured["apply"] as? [String: Any])?["state"] as? String == "applied", "\(structured)")
        #expect((answer["text"] as? String)?.contains("standing rule \"docs\" approved") == true, "\(answer)")
        #expect(allowlist() == "pypi.org\ndocs.python.org\n")
        #expect(elapsed < 20, "no human: answered in \(elapsed) s")
        // Shown as the rule's everywhere: the log and list --all say policy:docs.
        let log = try ApplyFixtures.run([BuiltBinary.path, "log", "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(log.out.contains("policy:docs"), "\(log.out)")
    }

    @Test("a critical proposal is never decided by a rule, even one naming its host; the human's preset answer reaches the agent by name")
    func criticalAsksAndPresetAnswer() async throws {
        scratch.write(Self.policy, at: "host.toml")
        let rules = try await startRules()
        defer { stop(rules) }
        let sidecar = try sidecar()
        let file = scratch.write("pypi.org\npastebin.com\n", at: "proposed-allowlist")
        let call = try PythonClient.Run(["call", sidecar.url, "auto", "pipelock-block", file])
        let id = try #require(try sidecar.waitForPending().first)
        // The watcher saw it (it is the only host process) and left it alone.
        try await Task.sleep(for: .seconds(1))
        #expect(!FileManager.default.fileExists(atPath: "\(bottleQueue)/\(id).decision.json"))
        let explain = try ApplyFixtures.run(
            [BuiltBinary.path, "policy", "explain", id, "--settings", settings, "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(explain.status == 0, "\(explain.err)")
        #expect(explain.out.contains("verdict: ask") && explain.out.contains("critical"), "\(explain.out)")

        let reject = try ApplyFixtures.run(
            [
                BuiltBinary.path, "reject", id, "--answer", "use-mirror", "--settings", settings, "--queue-root", queueRoot,
                "--config-root", configRoot,
            ])
        #expect(reject.status == 0, "\(reject.err)")
        let answer = try call.finish(timeout: 30)
        #expect(answer["isError"] as? Bool == true)
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "rejected")
        #expect(structured["answer"] as? String == "use-mirror")
        #expect(structured["notes"] as? String == "Use the internal mirror at pypi.internal.example instead; it is already allowed.")
        #expect(allowlist() == "pypi.org\n")
    }

    @Test("a broken policy file asks: the proposal waits for a human, and the watcher says why")
    func brokenPolicyAsks() async throws {
        scratch.write(Self.policy.replacingOccurrences(of: "max_risk = \"warning\"", with: "max_risk = \"critical\""), at: "host.toml")
        let rules = try await startRules()
        defer { stop(rules) }
        let sidecar = try sidecar()
        let file = scratch.write("pypi.org\ndocs.python.org\n", at: "proposed-allowlist")
        let call = try PythonClient.Run(["call", sidecar.url, "auto", "pipelock-block", file])
        let id = try #require(try sidecar.waitForPending().first)
        let said = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            ((try? String(contentsOfFile: scratch.path + "/notify.err", encoding: .utf8)) ?? "").contains(
                "no rule decides anything")
        }
        #expect(said)
        try await Task.sleep(for: .seconds(1))
        #expect(!FileManager.default.fileExists(atPath: "\(bottleQueue)/\(id).decision.json"))
        let check = try ApplyFixtures.run([BuiltBinary.path, "policy", "check", settings])
        #expect(check.status == 1)
        #expect(check.err.contains("host.toml:9: policy.rule[1].max_risk"), "\(check.err)")
        // The human decides as usual.
        let approve = try ApplyFixtures.run(
            [BuiltBinary.path, "approve", id, "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(approve.status == 0, "\(approve.err)")
        let answer = try call.finish(timeout: 30)
        #expect((answer["structured"] as? [String: Any])?["decided_by"] as? String != "policy:docs")
    }

    @Test("approve --remember: the next identical addition in that bottle is answered by the remembered rule")
    func remember() async throws {
        let hostToml = "[answers]\nok = \"fine\"\n\n[[policy.rule]]\nname = \"hold-prod\"\nbottles = [\"prod-*\"]\naction = \"ask\"\n"
        scratch.write(hostToml, at: "host.toml")
        let rules = try await startRules()
        defer { stop(rules) }
        let sidecar = try sidecar()
        let file = scratch.write("pypi.org\nfiles.pythonhosted.org\n", at: "proposed-allowlist")
        let call = try PythonClient.Run(["call", sidecar.url, "auto", "pipelock-block", file])
        let id = try #require(try sidecar.waitForPending().first)
        let approve = try ApplyFixtures.run(
            [
                BuiltBinary.path, "approve", id, "--remember", "--answer", "ok", "--settings", settings, "--queue-root",
                queueRoot, "--config-root", configRoot,
            ])
        #expect(approve.status == 0, "\(approve.err)")
        #expect(approve.out.contains("remembered as rule"), "\(approve.out)")
        let first = try call.finish(timeout: 30)
        #expect((first["structured"] as? [String: Any])?["answer"] as? String == "ok")
        let remembered = try String(contentsOfFile: scratch.path + "/policy-remembered.toml", encoding: .utf8)
        #expect(remembered.contains("hosts = [\"files.pythonhosted.org\"]"), "\(remembered)")
        #expect(try String(contentsOfFile: settings, encoding: .utf8) == hostToml)
        // The operator removes the host again (a rollback); the agent asks once more; the rule answers.
        let rollback = try ApplyFixtures.run(
            [BuiltBinary.path, "rollback", "web", "allowlist", "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(rollback.status == 0, "\(rollback.err)")
        #expect(allowlist() == "pypi.org\n")
        let again = try PythonClient.Run(["call", sidecar.url, "auto", "pipelock-block", file]).finish(timeout: 30)
        let structured = try #require(again["structured"] as? [String: Any], "\(again)")
        #expect(structured["status"] as? String == "approved", "\(again)")
        #expect((structured["decided_by"] as? String)?.hasPrefix("policy:remembered-web-") == true, "\(structured)")
        // Shown as such: list --all --json has the answer and the rule, the table says rule:approved, show names the rule.
        let listed = try ApplyFixtures.run(
            [BuiltBinary.path, "list", "--all", "--json", "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(listed.out.contains("\"answer\" : \"ok\""), "\(listed.out)")
        #expect(listed.out.contains("\"decided_by\" : \"policy:remembered-web-"), "\(listed.out)")
        let table = try ApplyFixtures.run(
            [BuiltBinary.path, "list", "--all", "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(table.out.contains("rule:approved"), "\(table.out)")
        let ruled = try #require(structured["proposal_id"] as? String)
        let shown = try ApplyFixtures.run(
            [BuiltBinary.path, "show", ruled, "--queue-root", queueRoot, "--config-root", configRoot])
        #expect(shown.out.contains("by the standing rule remembered-web-"), "\(shown.out)")
    }

    @Test("policy check lists the rules in order; policy explain names the rule that would decide, and why the others would not")
    func checkAndExplain() async throws {
        scratch.write(
            Self.policy + "\n[[policy.rule]]\nname = \"later\"\nhosts = [\"docs.python.org\"]\naction = \"approve\"\n",
            at: "host.toml")
        let check = try ApplyFixtures.run([BuiltBinary.path, "policy", "check", settings])
        #expect(check.status == 0, "\(check.err)")
        #expect(check.out.contains("2 rule(s), 1 preset answer(s); valid"), "\(check.out)")
        #expect(check.out.contains("1. docs (host.toml:4): approve; for 8h"), "\(check.out)")
        let proposal = Proposal(
            bottle: try BottleSlug("api"), tool: .pipelockBlock, proposedFile: "docs.python.org\n",
            justification: "docs", currentFileSHA256: nil)
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        let explain = try ApplyFixtures.run(
            [
                BuiltBinary.path, "policy", "explain", proposal.id.rawValue, "--settings", settings, "--queue-root",
                queueRoot, "--config-root", configRoot,
            ])
        #expect(explain.status == 0, "\(explain.err)")
        #expect(explain.out.contains("docs: no — bottle api matches none of web*"), "\(explain.out)")
        #expect(explain.out.contains("verdict: approve by policy:later"), "\(explain.out)")
        // Nothing was decided by explaining.
        #expect(!FileManager.default.fileExists(atPath: "\(queueRoot)/api/\(proposal.id).decision.json"))
        let missing = try ApplyFixtures.run(
            [
                BuiltBinary.path, "policy", "explain", "20260101-000000-000000000000", "--settings", settings,
                "--queue-root", queueRoot, "--config-root", configRoot,
            ])
        #expect(missing.status == 3, "\(missing.err)")
    }
}
