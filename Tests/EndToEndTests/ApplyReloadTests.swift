import Apply
import Foundation
import Queue
import SystemPackage
import Testing

/// The apply step against a real reloadable process: a stand-in cred-proxy
/// that loads routes.json and reloads it on SIGHUP, and a waiting agent
/// (a ``DecisionWaiter``) that must learn what really happened.
@Suite(.serialized) struct ApplyReloadTests {
    static let v1 = #"{"routes": [{"host": "api.one.example", "header": "Authorization"}]}"# + "\n"
    static let v2 =
        #"{"routes": [{"host": "api.one.example", "header": "Authorization"}, {"host": "api.two.example", "header": "X-Key"}]}"#
        + "\n"

    func applier(_ host: ReloadableBottle) -> Applier {
        Applier(
            configRoot: host.configRoot, queueRoot: host.queueRoot, engine: ContainerEngine("false"),
            operatorName: "alice")
    }

    @Test func anApprovedRoutesChangeIsLiveInTheProxyAndTheAgentIsTold() async throws {
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.hupSettings)
        #expect(try host.loaded().generation == 1)
        let proposal = try await host.propose(Self.v2)
        let waiter = Task { try await DecisionWaiter(queue: host.queue).decision(for: proposal.id) }

        let clock = ContinuousClock()
        let start = clock.now
        _ = try await applier(host).apply(
            decision: Decision(id: proposal.id, status: .approved, notes: "go", decidedBy: "alice",
                proposalSHA256: reviewedSHA256(proposal)), proposal: proposal,
            queue: host.queue)
        let elapsed = clock.now - start
        let answer = try await waiter.value

        let loaded = try host.loaded()
        #expect(loaded.generation == 2)
        #expect(loaded.routes == (try ReloadableBottle.canonical(Self.v2)))
        #expect(answer.status == .approved)
        #expect(answer.apply?.state == .applied)
        #expect(answer.apply?.summary.hasPrefix("applied: wrote routes.json and ran ") == true)
        #expect(answer.apply?.outputTail?.contains("reloaded: generation 2") == true)
        print("apply with a SIGHUP reload (python fixture) took \(elapsed)")
    }

    @Test func aFailingReloadRestoresTheFileAndTheAgentHearsNotApplied() async throws {
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.failingSettings)
        let proposal = try await host.propose(Self.v2)
        let waiter = Task { try await DecisionWaiter(queue: host.queue).decision(for: proposal.id) }
        _ = try await applier(host).apply(
            decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: reviewedSHA256(proposal)), proposal: proposal,
            queue: host.queue)
        let answer = try await waiter.value
        #expect(answer.status == .approved)
        #expect(answer.apply?.state == .failed)
        #expect(answer.apply?.summary.hasPrefix("approved, not applied: ") == true)
        // The cause is the output's last line, not only the status: the agent and the operator read it here.
        #expect(
            answer.apply?.summary.hasSuffix("exited with status 7: cred-proxy: routes rejected: upstream unreachable")
                == true, "\(answer.apply?.summary ?? "")")
        #expect(answer.apply?.exitStatus == 7)
        let tail = try #require(answer.apply?.outputTail)
        #expect(tail.split(separator: "\n").count == 40)
        #expect(tail.hasSuffix("cred-proxy: routes rejected: upstream unreachable"))
        #expect(try String(contentsOfFile: host.routesPath, encoding: .utf8) == Self.v1)
        #expect(try host.loaded().generation == 1)
    }

    @Test func agentTextNeverReachesACommandLine() async throws {
        let marker = NSTemporaryDirectory() + "pwned-\(UUID().uuidString.prefix(8))"
        let hostile = [
            "$(touch \(marker))", "; reboot", "`touch \(marker)`", "a\nb", "{slug}", "{file}", "|| touch \(marker)",
        ]
        let routes =
            #"{"routes": [{"host": "api.two.example", "note": "\#(hostile.joined(separator: " ").replacingOccurrences(of: "\n", with: "\\n"))"}]}"#
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.hupSettings)
        let proposal = try await host.propose(routes, justification: hostile.joined(separator: "\n"))
        _ = try await applier(host).apply(
            decision: Decision(
                id: proposal.id, status: .modified, notes: "$(touch \(marker))", finalFile: routes, decidedBy: "alice",
                proposalSHA256: reviewedSHA256(proposal)),
            proposal: proposal, queue: host.queue)

        let argv = try host.recordedArgv()
        #expect(
            argv == [
                [
                    ApplyFixtures.path("send_hup.py"), host.pidPath, host.loadedPath, host.argvLog, "fixture-bottle",
                    host.routesPath,
                ]
            ])
        for argument in argv.joined() {
            #expect(!argument.contains("reboot") && !argument.contains("touch") && !argument.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try host.loaded().routes == (try ReloadableBottle.canonical(routes)))
    }

    @Test func rollbackPutsThePreviousRoutesBackLive() async throws {
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.hupSettings)
        let proposal = try await host.propose(Self.v2)
        _ = try await applier(host).apply(
            decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: reviewedSHA256(proposal)), proposal: proposal,
            queue: host.queue)
        #expect(try host.loaded().routes == (try ReloadableBottle.canonical(Self.v2)))

        let back = try host.cli(["rollback", "fixture-bottle", "routes.json"])
        #expect(back.status == 0, "\(back.err)")
        #expect(back.out.hasPrefix("rolled back routes.json to "))
        #expect(try String(contentsOfFile: host.routesPath, encoding: .utf8) == Self.v1)
        #expect(try host.loaded().routes == (try ReloadableBottle.canonical(Self.v1)))
        #expect(try host.loaded().generation == 3)

        let again = try host.cli(["rollback", "fixture-bottle", "routes"])
        #expect(again.status == 0, "\(again.err)")
        #expect(try host.loaded().routes == (try ReloadableBottle.canonical(Self.v2)))

        #expect(try host.cli(["rollback", "fixture-bottle", "allowlist"]).status == 3)
        #expect(try host.cli(["rollback", "../etc", "routes.json"]).status == 2)
        #expect(try host.cli(["rollback", "fixture-bottle", "passwd"]).status == 2)

        let log = try host.cli(["log"])
        #expect(log.status == 0)
        #expect(log.out.split(separator: "\n").count == 5)  // header, decision, apply, two rollbacks
        #expect(log.out.contains("rollback"))
        #expect(try host.cli(["log", "--verify"]).out == "4 records, chain intact\n")
    }

    @Test(arguments: ["edit", "delete", "reorder"])
    func aTamperedAuditLogFailsVerify(tampering: String) async throws {
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.hupSettings)
        let applier = applier(host)
        let v3 = #"{"routes": [{"host": "api.three.example", "header": "X-Key"}]}"# + "\n"
        for routes in [Self.v2, v3, Self.v1] {
            let proposal = try await host.propose(routes)
            _ = try await applier.apply(
                decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: reviewedSHA256(proposal)), proposal: proposal,
                queue: host.queue)
        }
        let intact = try host.cli(["log", "--verify"])
        #expect(intact.status == 0)
        #expect(intact.out == "6 records, chain intact\n")
        let json = try host.cli(["log", "--json"])
        #expect(json.out.split(separator: "\n").count == 6)

        let path = host.queueRoot.string + "/audit.log"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        switch tampering {
        case "edit": lines[2] = lines[2].replacingOccurrences(of: "\"alice\"", with: "\"mallory\"")
        case "delete": lines.remove(at: 2)
        default: lines.swapAt(2, 3)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let broken = try host.cli(["log", "--verify"])
        #expect(broken.status == 1)
        #expect(broken.err.contains("line 3"), "\(broken.err)")
    }
}
