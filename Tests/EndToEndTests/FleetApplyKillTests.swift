import Foundation
import PostgresTestSupport
import Testing

/// `kill -9` of the owning host's relay in the middle of applying a claim, with real processes: the
/// claim is made in the database from host b, host a's relay applies it and is killed while the
/// bottle's reload runs (a command the test holds), and a new relay finishes the story as
/// docs/fleet.md's failure table says: the host's recovery records the interrupted apply, the
/// decision in the queue is recognised as the relay's own and recorded delivered, nothing is
/// applied a second time, and the agent gets its answer.
@Suite(
    "Fleet: a relay killed mid-apply",
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (apt-get install postgresql)"),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct FleetApplyKillTests {
    static let wanted = "api.github.com\npypi.org\n"

    @Test(
        "kill -9 while the reload runs: one decision, applied once, recorded delivered, the agent answered (or, having gone, reads it)",
        arguments: [false, true])
    func killedMidApply(agentLeaves: Bool) async throws {
        // The reload says it started, then waits until the test lets it go (at most 120 s).
        let control = FileManager.default.temporaryDirectory.appendingPathComponent("midapply-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
        defer {
            _ = FileManager.default.createFile(atPath: control + "/release", contents: nil)
            try? FileManager.default.removeItem(atPath: control)
        }
        let reload = [
            "/bin/sh", "-c",
            "echo reload >> \(control)/reloads; i=0; while [ ! -e \(control)/release ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done",
        ]
        let fleet = try await FleetOfTwo.start(reloadA: reload)
        let first = try await fleet.a.startRelay()
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await FleetFaultTests.mirrored(id, in: fleet), "\(first.log)")

        // Claimed in the database from b; a's relay takes it and is in the reload.
        let claimed = try fleet.b.fleet(["approve", id, "--wait", "0"])
        #expect(claimed.status == 0, "\(claimed.out)\(claimed.err)")
        let reloading = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: control + "/reloads")
        }
        #expect(reloading, "the reload never started:\n\(first.log)")
        // The agent may give up on its held call meanwhile (its client killed): the answer waits for it.
        if agentLeaves { call.kill() }
        first.kill()
        // Mid-apply, as the kill left it: the file written, the decision in the queue with its apply
        // pending, the claim still awaiting the host in the database.
        #expect(fleet.a.allowlist() == Self.wanted)
        #expect(try fleet.sql("SELECT delivery FROM fleet_decisions WHERE id = '\(id)'") == "awaiting-host")
        _ = FileManager.default.createFile(atPath: control + "/release", contents: nil)

        let second = try await fleet.a.startRelay()
        defer { second.stop() }
        var row = ""
        let settled = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            row = (try? fleet.sql(
                "SELECT delivery || ' ' || coalesce(apply_state, '-') || ' ' || decided_by FROM fleet_decisions WHERE id = '\(id)'"))
                ?? ""
            return row.hasPrefix("delivered ") && !row.contains(" pending ")
        }
        #expect(settled, "\(row)\nsecond relay:\n\(second.log)")
        // The interrupted apply is recorded as such (the host cannot know the reload finished).
        #expect(row.hasPrefix("delivered failed "), "\(row)")
        #expect(try fleet.sql("SELECT count(*) FROM fleet_decisions WHERE id = '\(id)'") == "1")

        if agentLeaves {
            // The agent asks again later (`ask --status`, as `proposal-status` does) and reads the outcome.
            let status = try ApplyFixtures.run(
                [BuiltBinary.path, "ask", "--status", id, "--url", fleet.a.bottle.url], timeout: .seconds(30))
            #expect(status.status == 0, "\(status.out)\(status.err)")
            #expect(status.out.contains("status: approved"), "\(status.out)")
            #expect(status.out.contains("apply: apply interrupted; check the bottle's file"), "\(status.out)")
        } else {
            // The agent's held call is answered with that outcome.
            let answer = try call.finish(timeout: 60)
            let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
            #expect(structured["status"] as? String == "approved", "\(structured)")
            #expect((structured["apply"] as? [String: Any])?["state"] as? String == "failed", "\(structured)")
        }

        // Applied once: one decision and one apply record in a's audit log, one reload, one saved version.
        #expect(fleet.a.decisionRecords(of: id).count == 1)
        #expect(fleet.a.auditRecords(of: id, event: "apply").count == 1, "\(fleet.a.auditRecords(of: id, event: "apply"))")
        let reloads = (try? String(contentsOfFile: control + "/reloads", encoding: .utf8)) ?? ""
        #expect(reloads == "reload\n", "\(reloads)")
        let history = (try? FileManager.default.contentsOfDirectory(atPath: fleet.a.bottle.configDirectory + "/.history/allowlist")) ?? []
        #expect(history.count == 1, "\(history)")
        #expect(fleet.a.allowlist() == Self.wanted)

        // A third relay changes nothing.
        second.stop()
        let third = try await fleet.a.startRelay()
        defer { third.stop() }
        #expect(fleet.a.decisionRecords(of: id).count == 1)
        #expect(fleet.a.auditRecords(of: id, event: "apply").count == 1)
        #expect(try fleet.sql("SELECT delivery FROM fleet_decisions WHERE id = '\(id)'") == "delivered")
        #expect(((try? String(contentsOfFile: control + "/reloads", encoding: .utf8)) ?? "") == "reload\n")
    }
}
