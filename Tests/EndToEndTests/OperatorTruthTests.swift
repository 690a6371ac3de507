import Foundation
import Queue
import SystemPackage
import Testing

/// The operator's commands say exactly what is true: a decided proposal
/// shows what was applied, a mistyped root is an error, usage errors show the
/// usage of the command given. Run as the real binary.
@Suite("CLI: what the operator reads is true")
struct OperatorTruthTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }

    init() throws {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
        try FileManager.default.createDirectory(atPath: queueRoot, withIntermediateDirectories: true)
    }

    func propose(_ file: String = "api.github.com\npypi.org\n") async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: file, justification: "pip needs PyPI",
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        return proposal
    }

    func cli(_ arguments: String..., environment: [String: String] = [:]) throws -> (
        status: Int32, out: String, err: String
    ) {
        try cli(arguments, environment: environment)
    }

    func cli(_ arguments: [String], environment: [String: String] = [:]) throws -> (
        status: Int32, out: String, err: String
    ) {
        try ApplyFixtures.run(
            [BuiltBinary.path] + arguments,
            environment: ["SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": configRoot, "NO_COLOR": "1"]
                .merging(environment) { $1 }, timeout: .seconds(60))
    }

    @Test("show on an approved proposal: the applied file against the one it replaced, the outcome said once")
    func showApproved() async throws {
        let proposal = try await propose()
        #expect(try cli("approve", proposal.id.rawValue, "--notes", "ok").status == 0)
        let shown = try cli("show", proposal.id.rawValue)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(!shown.out.contains("current file changed"), "\(shown.out)")
        #expect(shown.out.contains("+pypi.org"), "\(shown.out)")
        #expect(shown.out.contains("host added: pypi.org"))
        #expect(shown.out.contains("apply: applied: wrote allowlist and ran true"), "\(shown.out)")
        #expect(!shown.out.contains("applied: applied"), "\(shown.out)")
        #expect(!shown.out.contains("To decide"), "a decided proposal offers no decision: \(shown.out)")
    }

    @Test("show after a modify: the operator's added host is added, not removed")
    func showModified() async throws {
        let proposal = try await propose("api.github.com\npypi.org\nevil.example\n")
        let mine = scratch.write("api.github.com\npypi.org\nfiles.pythonhosted.org\n", at: "mine")
        #expect(try cli("modify", proposal.id.rawValue, "--file", mine).status == 0)
        let shown = try cli("show", proposal.id.rawValue).out
        #expect(shown.contains("host added: files.pythonhosted.org"), "\(shown)")
        #expect(!shown.contains("removed"), "\(shown)")
        #expect(!shown.contains("current file changed"), "\(shown)")
    }

    @Test("show on a rejected proposal: the proposal and the notes, no 'current file changed'")
    func showRejected() async throws {
        let proposal = try await propose()
        let other = try await propose("api.github.com\nnpmjs.org\n")
        #expect(try cli("approve", other.id.rawValue).status == 0)
        #expect(try cli("reject", proposal.id.rawValue, "--notes", "use the mirror").status == 0)
        let shown = try cli("show", proposal.id.rawValue).out
        #expect(shown.contains("notes: use the mirror"), "\(shown)")
        #expect(shown.contains("+pypi.org"), "\(shown)")
        #expect(shown.contains("nothing was applied"), "\(shown)")
        #expect(!shown.contains("current file changed"), "\(shown)")
    }

    @Test("a queue root that does not exist, or is a file, fails every operator command with status 1")
    func missingQueueRoot() throws {
        let file = scratch.write("not a directory\n", at: "plain-file")
        for root in [scratch.path + "/typo", file] {
            let id = "20260101-000000-000000000000"
            for arguments in [
                ["list"], ["list", "--all", "--json"], ["show", id], ["approve", id], ["reject", id, "--notes", "x"],
                ["modify", id, "--file", file], ["log"], ["log", "--verify"], ["rollback", "demo", "allowlist"],
                ["console"], ["notify"], ["web", "--port", "0"],
            ] {
                let run = try ApplyFixtures.run(
                    [BuiltBinary.path] + arguments + ["--queue-root", root],
                    environment: ["SUPERVISE_CONFIG_ROOT": configRoot, "NO_COLOR": "1"], timeout: .seconds(30))
                #expect(run.status == 1, "\(arguments) on \(root): \(run.status) \(run.out) \(run.err)")
                let problem = root == file ? "is not a directory" : "does not exist"
                #expect(
                    run.err.contains("the queue root \(root) \(problem) (--queue-root)"),
                    "\(arguments): \(run.err)")
                #expect(!run.out.contains("no pending proposals"))
            }
        }
        // From the environment, the message says where the path came from.
        let fromVariable = try cli("list", environment: ["SUPERVISE_QUEUE_ROOT": scratch.path + "/typo"])
        #expect(fromVariable.status == 1)
        #expect(fromVariable.err.contains("(from $SUPERVISE_QUEUE_ROOT)"), "\(fromVariable.err)")
    }

    @Test("every operator command fails with status 1 on a config root that does not exist, and writes nothing")
    func missingConfigRoot() async throws {
        let proposal = try await propose()
        let typo = scratch.path + "/bottels"
        let id = proposal.id.rawValue
        let mine = scratch.write("api.github.com\n", at: "mine")
        for arguments in [
            ["approve", id], ["modify", id, "--file", mine], ["rollback", "demo", "allowlist"], ["console"],
            ["web", "--port", "0"],
            // Those that only read it too: `show` would diff against nothing, `reject` audit `-` as the file's hash.
            ["show", id], ["show", id, "--json"], ["list"], ["list", "--all"], ["reject", id, "--notes", "x"], ["log"],
            ["notify"], ["apply", id],
        ] {
            let run = try cli(arguments + ["--config-root", typo])
            #expect(run.status == 1, "\(arguments): \(run.err)")
            #expect(
                run.err.contains("the config root \(typo) does not exist (--config-root)"), "\(arguments): \(run.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: typo))
        #expect(try QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).decision(proposal.id) == nil)
    }

    @Test("log --verify: a missing audit log fails, an empty one passes")
    func verifyNeedsALog() throws {
        let missing = try cli("log", "--verify")
        #expect(missing.status == 1)
        #expect(missing.err.contains("there is no audit log at \(queueRoot)/audit.log"), "\(missing.err)")
        #expect(!missing.out.contains("chain intact"))
        scratch.write("", at: "queue/audit.log")
        let empty = try cli("log", "--verify")
        #expect(empty.status == 0, "\(empty.err)")
        #expect(empty.out.contains("0 records, chain intact"))
    }

    @Test("list --all with nothing says 'no proposals'; list says 'no pending proposals'")
    func emptyLists() throws {
        #expect(try cli("list", "--all").out == "no proposals\n")
        #expect(try cli("list").out == "no pending proposals\n")
    }

    @Test("approve and modify take --engine, and the default reload action runs that engine")
    func engineFlag() async throws {
        // No [reload.allowlist]: the default action runs the engine.
        scratch.write("", at: "bottles/demo/supervise.toml")
        let log = scratch.path + "/engine.log"
        let engine = scratch.write("#!/bin/sh\necho \"$@\" >> '\(log)'\n", at: "fake-engine", executable: true)
        let proposal = try await propose()
        let approved = try cli("approve", proposal.id.rawValue, "--engine", engine)
        #expect(approved.status == 0, "\(approved.err)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("demo-pipelock"))
        let other = try await propose("api.github.com\npypi.org\nnpmjs.org\n")
        // The bottle's file changed with the first approval: --force, as an operator would after reviewing.
        // The operator's own version (an unchanged one would be no modification, and is refused).
        let mine = scratch.write("api.github.com\npypi.org\nnpmjs.org\nregistry.npmjs.org\n", at: "mine")
        let modified = try cli("modify", other.id.rawValue, "--file", mine, "--force", "--engine", engine)
        #expect(modified.status == 0, "\(modified.err)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count >= 2)
    }

    @Test("a failed reload: stdout says why in one line (the output's last line), stderr has the output, status 1")
    func failedReloadSaysWhy() async throws {
        scratch.write(
            "[reload.allowlist]\ncommand = [\"sh\", \"-c\", \"echo pulling; echo 'Error: no container with name demo-pipelock found' >&2; exit 125\"]\n",
            at: "bottles/demo/supervise.toml")
        let proposal = try await propose()
        let approved = try cli("approve", proposal.id.rawValue)
        #expect(approved.status == 1)
        #expect(
            approved.out.contains(
                "approved, not applied: sh exited with status 125: Error: no container with name demo-pipelock found"),
            "\(approved.out)")
        #expect(approved.err.contains("pulling"), "\(approved.err)")
        // Said on standard output and standard error once each, not a third time by the apply step's log.
        #expect(!approved.err.contains("apply failed; previous file restored"), "\(approved.err)")
        let decision = try #require(
            try QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).decision(proposal.id))
        #expect(decision.apply?.summary.contains("Error: no container with name demo-pipelock found") == true)
    }

    @Test("serve's usage errors show serve's usage, for a bad flag and a bad environment variable alike")
    func serveUsage() throws {
        let cases: [([String], [String: String], String)] = [
            (["serve", "--slug", "web", "--port", "70000"], [:], "port must be 0…65535"),
            (["serve", "--slug", "web"], ["SUPERVISE_PORT": "nine"], "$SUPERVISE_PORT is \"nine\", not a port number"),
            (["serve", "--slug", "web", "--keepalive", "0"], [:], "--keepalive must be a positive number"),
            (["serve"], ["SUPERVISE_BOTTLE_SLUG": ""], "the bottle's slug is required"),
            (["serve", "--slug", "../etc"], [:], "1–63 letters, digits"),
        ]
        for (arguments, environment, message) in cases {
            let run = try ApplyFixtures.run(
                [BuiltBinary.path] + arguments, environment: environment, timeout: .seconds(30))
            #expect(run.status == 2, "\(arguments): \(run.err)")
            #expect(run.err.contains(message), "\(arguments): \(run.err)")
            #expect(run.err.contains("Usage: bottle-supervise serve"), "\(arguments): \(run.err)")
        }
    }

    @Test("serve refuses a duration too long to keep (1e30 seconds), naming the flag or the variable it came from, instead of crashing")
    func serveDurations() throws {
        let cases: [([String], [String: String], String)] = [
            (["--hold-limit", "1e30"], [:], "--hold-limit must be 0 (hold until decided) or a positive number of seconds, at most 31622400"),
            ([], ["SUPERVISE_KEEPALIVE": "1e300"], "$SUPERVISE_KEEPALIVE must be a positive number of seconds, at most 31622400"),
            (["--expire-after", "4e12"], [:], "--expire-after must be a positive number of seconds"),
            ([], ["SUPERVISE_EXPIRE_AFTER": "-5"], "$SUPERVISE_EXPIRE_AFTER must be a positive number of seconds"),
            ([], ["SUPERVISE_HOLD_LIMIT": "nan"], "$SUPERVISE_HOLD_LIMIT must be 0 (hold until decided)"),
        ]
        for (arguments, environment, message) in cases {
            let run = try ApplyFixtures.run(
                [BuiltBinary.path, "serve", "--slug", "web", "--queue-dir", scratch.path + "/q", "--port", "0"]
                    + arguments, environment: environment, timeout: .seconds(30))
            #expect(run.status == 2, "\(arguments) \(environment): \(run.err)")
            #expect(run.err.contains(message), "\(arguments) \(environment): \(run.err)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path + "/q"), "nothing starts")
        }
    }

    @Test("rollback parses its slug and file before running: a bad one is a usage error naming valid values")
    func rollbackArguments() throws {
        let badFile = try cli("rollback", "demo", "passwd")
        #expect(badFile.status == 2)
        #expect(badFile.err.contains("routes.json") && badFile.err.contains("Dockerfile"), "\(badFile.err)")
        let badSlug = try cli("rollback", "../x", "allowlist")
        #expect(badSlug.status == 2)
        #expect(badSlug.err.contains("starting with a letter or digit"), "\(badSlug.err)")
        let nothing = try cli("rollback", "demo", "allowlist")
        #expect(nothing.status == 3, "\(nothing.err)")
    }

    @Test("demo --no-tui asks again after a mistyped answer, and says what is true when input ends")
    func demoPrompt() throws {
        let retried = try ApplyFixtures.run(
            ["sh", "-c", "printf 'yes\\na\\n' | '\(BuiltBinary.path)' demo --no-tui --state-dir '\(scratch.path)/d1'"],
            timeout: .seconds(120))
        #expect(retried.status == 0, "\(retried.err)")
        #expect(retried.out.contains("yes is not an answer: type a to approve or r to reject"), "\(retried.out)")
        #expect(retried.out.contains("status: approved"), "\(retried.out)")
        let ended = try ApplyFixtures.run(
            ["sh", "-c", "'\(BuiltBinary.path)' demo --no-tui --state-dir '\(scratch.path)/d2' < /dev/null"],
            timeout: .seconds(120))
        #expect(ended.status == 0, "\(ended.err)")
        #expect(ended.out.contains("Nothing was decided"), "\(ended.out)")
        #expect(!ended.out.contains("keeps waiting"), "\(ended.out)")
    }
}
