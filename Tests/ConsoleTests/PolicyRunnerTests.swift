import Apply
import FileAccess
import Foundation
import Queue
import Synchronization
import SystemPackage
import Testing

@testable import Console

/// The rule runner: decides through the apply path, once across processes,
/// and not at all while the policy is broken.
@Suite("Policy: the rule runner")
struct PolicyRunnerTests {
    /// A host in a temporary directory: queue root, config root, settings file.
    final class Host: Sendable {
        let directory: FilePath
        let bottle = try! BottleSlug("web-1")
        var queueRoot: FilePath { directory.appending("queue") }
        var configRoot: FilePath { directory.appending("bottles") }
        var settings: FilePath { directory.appending("host.toml") }

        init() throws {
            directory = FilePath(NSTemporaryDirectory()).appending("rules-\(UUID().uuidString.prefix(8))")
            try AtomicFile.makeDirectory(directory.appending("bottles").appending("web-1"))
            try AtomicFile.makeDirectory(directory.appending("queue"))
            try QueueRoot(directory.appending("queue")).queue(for: bottle).prepare()
            try write("pypi.org\n", to: "allowlist")
            try write("[reload.allowlist]\ncommand = [\"true\"]\n", to: "supervise.toml")
        }

        deinit { try? FileManager.default.removeItem(atPath: directory.string) }

        func write(_ text: String, to name: String) throws {
            try AtomicFile.write(Data(text.utf8), to: configRoot.appending(bottle.rawValue).appending(name))
        }

        func policy(_ text: String) throws {
            try AtomicFile.write(Data(text.utf8), to: settings)
        }

        var queue: BottleQueue { QueueRoot(queueRoot).queue(for: bottle) }

        func propose(_ allowlist: String) async throws -> Proposal {
            let proposal = Proposal(
                bottle: bottle, tool: .pipelockBlock, proposedFile: allowlist, justification: "docs",
                currentFileSHA256: SHA256Hex.of("pypi.org\n"))
            _ = try await queue.submit(proposal)
            return proposal
        }

        func runner(_ statuses: Statuses? = nil) -> PolicyRunner {
            PolicyRunner(
                source: PolicySource(settings: settings), queueRoot: queueRoot, configRoot: configRoot,
                engine: .init("false")
            ) { text, _ in statuses?.lines.withLock { $0.append(text) } }
        }
    }

    /// The status lines a runner reported.
    final class Statuses: Sendable {
        let lines = Mutex<[String]>([])
    }

    static let rules = """
        [answers]
        use-mirror = "Use the internal mirror at pypi.internal.example instead."

        [[policy.rule]]
        name = "docs"
        hosts = ["docs.python.org"]
        action = "approve"
        for = "1h"

        [[policy.rule]]
        name = "no-files"
        hosts = ["files.pythonhosted.org"]
        action = "reject"
        answer = "use-mirror"
        """

    @Test("an approve rule decides through the apply path: the file written, policy:<rule> in the decision and the audit log")
    func approves() async throws {
        let host = try Host()
        try host.policy(Self.rules)
        let proposal = try await host.propose("pypi.org\ndocs.python.org\n")
        let runner = host.runner()
        let taken = await runner.consider()
        #expect(taken == [proposal.id])
        await runner.drain()
        let decision = try #require(try host.queue.decision(proposal.id))
        #expect(decision.status == .approved)
        #expect(decision.decidedBy == "policy:docs")
        #expect(decision.decidingRule == "docs")
        #expect(decision.apply?.state == .applied, "\(String(describing: decision.apply))")
        #expect(decision.proposalSHA256 != nil)
        #expect(try ConfigRootText.allowlist(host) == "pypi.org\ndocs.python.org\n")
        let audit = try String(contentsOfFile: host.queueRoot.appending("audit.log").string, encoding: .utf8)
        #expect(audit.contains("\"policy:docs\""), "\(audit)")
    }

    @Test("a reject rule answers with its preset answer, by name")
    func rejects() async throws {
        let host = try Host()
        try host.policy(Self.rules)
        let proposal = try await host.propose("pypi.org\nfiles.pythonhosted.org\n")
        let runner = host.runner()
        await runner.consider(QueueWatch.Change.bottle(host.bottle))
        await runner.drain()
        let decision = try #require(try host.queue.decision(proposal.id))
        #expect(decision.status == .rejected)
        #expect(decision.answer == "use-mirror")
        #expect(decision.notes == "Use the internal mirror at pypi.internal.example instead.")
        #expect(try ConfigRootText.allowlist(host) == "pypi.org\n")
    }

    @Test("two runners (two host processes): one decision, the other sees the marker taken")
    func exclusive() async throws {
        let host = try Host()
        try host.policy(Self.rules)
        let proposal = try await host.propose("pypi.org\ndocs.python.org\n")
        let calls = Mutex(0)
        let make = {
            PolicyRunner(
                source: PolicySource(settings: host.settings), queueRoot: host.queueRoot, configRoot: host.configRoot
            ) { _, _ in } decider: { decision, _, queue, grant in
                calls.withLock { $0 += 1 }
                #expect(grant == GrantDuration(seconds: 3600))  // the rule's `for`, carried to the decision step
                try queue.decide(decision)
                return decision
            }
        }
        let (first, second) = (make(), make())
        async let a = first.consider()
        async let b = second.consider()
        let (takenA, takenB) = await (a, b)
        #expect(takenA.contains(proposal.id) && takenB.contains(proposal.id))
        await first.drain()
        await second.drain()
        #expect(calls.withLock { $0 } == 1)
        #expect(try host.queue.decision(proposal.id)?.decidedBy == "policy:docs")
    }

    @Test("a rule decision that fails (the bottle's file changed under it) leaves the proposal to a human, announced as usual")
    func failedDecisionReleased() async throws {
        let host = try Host()
        try host.policy(Self.rules)
        let proposal = try await host.propose("pypi.org\ndocs.python.org\n")
        let runner = PolicyRunner(
            source: PolicySource(settings: host.settings), queueRoot: host.queueRoot, configRoot: host.configRoot
        ) { _, _ in } decider: { _, _, _, _ in
            throw QueueError.alreadyDecided(proposal.id, status: .rejected)
        }
        #expect(await runner.consider() == [proposal.id])
        await runner.drain()
        #expect(await runner.consider().isEmpty)  // no longer kept from the notifier; the marker keeps rules off it
        #expect(try host.queue.decision(proposal.id) == nil)
    }

    @Test("a broken policy decides nothing and says so; once fixed, the rules run again")
    func brokenPolicyAsks() async throws {
        let host = try Host()
        try host.policy(Self.rules.replacingOccurrences(of: "action = \"approve\"", with: "action = approve"))
        let proposal = try await host.propose("pypi.org\ndocs.python.org\n")
        let statuses = Statuses()
        let runner = host.runner(statuses)
        #expect(await runner.consider().isEmpty)
        await runner.drain()
        #expect(try host.queue.decision(proposal.id) == nil)
        #expect(await runner.problem()?.contains("host.toml") == true)
        #expect(statuses.lines.withLock { $0.first?.contains("no rule decides anything") == true })
        // An unreadable file (a directory in its place) is as broken as a bad one.
        try FileManager.default.removeItem(atPath: host.settings.string)
        try AtomicFile.makeDirectory(host.settings)
        #expect(await runner.consider().isEmpty)
        try FileManager.default.removeItem(atPath: host.settings.string)
        try host.policy(Self.rules)
        #expect(await runner.consider() == [proposal.id])
        await runner.drain()
        #expect(try host.queue.decision(proposal.id)?.status == .approved)
    }

    @Test("a critical proposal is never decided, even by a rule naming its host")
    func critical() async throws {
        let host = try Host()
        try host.policy("[[policy.rule]]\nname = \"paste\"\nhosts = [\"pastebin.com\"]\nmax_risk = \"warning\"\naction = \"approve\"\n")
        let proposal = try await host.propose("pypi.org\npastebin.com\n")
        let runner = host.runner()
        #expect(await runner.consider().isEmpty)
        await runner.drain()
        #expect(try host.queue.decision(proposal.id) == nil)
    }
}

/// The bottle's files as the tests read them.
enum ConfigRootText {
    static func allowlist(_ host: PolicyRunnerTests.Host) throws -> String? {
        try AtomicFile.read(host.configRoot.appending(host.bottle.rawValue).appending("allowlist")).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
