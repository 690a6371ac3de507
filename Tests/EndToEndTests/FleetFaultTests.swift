import Foundation
import PostgresTestSupport
import Testing

/// The fleet's faults with a real PostgreSQL: a relay killed (-9) and restarted, the database
/// restarted or down, a relay started twice. Nothing is lost, no proposal gets a second decision,
/// and the host keeps working on its own files throughout.
@Suite(
    "Fleet faults: relays killed or doubled, the database down or restarted",
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (apt-get install postgresql)"),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct FleetFaultTests {
    static let wanted = "api.github.com\npypi.org\n"

    /// Waits until the database has the proposal `id` mirrored.
    static func mirrored(_ id: String, in fleet: FleetOfTwo, timeout: Duration = .seconds(30)) async -> Bool {
        await ApplyFixtures.eventually(timeout: timeout) {
            (try? fleet.sql("SELECT count(*) FROM fleet_proposals WHERE id = '\(id)'")) == "1"
        }
    }

    @Test("a claim the database does not answer within 10 s: exit 1, the decision may have been recorded, `show` tells")
    func claimDeadline() async throws {
        let fleet = try await FleetOfTwo.start()
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await Self.mirrored(id, in: fleet), "\(relay.log)")
        // The claim's INSERT hangs for longer than the deadline (a stalled database mid-transaction).
        _ = try fleet.sql(
            """
            CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(15); RETURN NEW; END $$;
            CREATE TRIGGER stall BEFORE INSERT ON fleet_decisions FOR EACH ROW EXECUTE FUNCTION stall();
            """)
        let started = ContinuousClock.now
        let claimed = try fleet.b.fleet(["approve", id, "--wait", "1"])
        #expect(ContinuousClock.now - started < .seconds(14), "the claim was not bounded")
        #expect(claimed.status == 1, "\(claimed.out)\(claimed.err)")
        #expect(claimed.err.contains("may have been recorded"), "\(claimed.err)")
        #expect(claimed.err.contains("show \(id) --database"), "\(claimed.err)")
    }

    @Test("the database lost after the claim won: exit 0, the decision is recorded, could not follow its delivery")
    func claimWonDeliveryUnfollowed() async throws {
        let fleet = try await FleetOfTwo.start()
        let relay = try await fleet.a.startRelay()
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await Self.mirrored(id, in: fleet), "\(relay.log)")
        relay.stop()  // nobody delivers: the command keeps following the claim until the database goes
        let host = fleet.b
        let command = Task.detached { try host.fleet(["approve", id, "--wait", "60"]) }
        #expect(await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.sql("SELECT count(*) FROM fleet_decisions WHERE id = '\(id)'")) == "1"
        })
        let killed = ContinuousClock.now
        try await fleet.server.kill()
        let claimed = try await command.value
        // Said when the database went, not after the 60 s wait: the LISTEN ends with its connection.
        #expect(ContinuousClock.now - killed < .seconds(20), "\(claimed.out)\(claimed.err)")
        #expect(claimed.status == 0, "\(claimed.out)\(claimed.err)")
        #expect(claimed.out.contains("the decision is recorded"), "\(claimed.out)")
        #expect(claimed.out.contains("could not follow its delivery"), "\(claimed.out)")
    }

    @Test("kill -9 of a relay, then a restart: the claim made meanwhile is applied once, a proposal made meanwhile is mirrored")
    func relayKilledAndRestarted() async throws {
        let fleet = try await FleetOfTwo.start()
        let first = try await fleet.a.startRelay()
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await Self.mirrored(id, in: fleet), "\(first.log)")
        first.kill()

        // Decided on b while a's relay is dead: claimed, not applied, and the command says so.
        let claimed = try fleet.b.fleet(["approve", id, "--wait", "1"])
        #expect(claimed.status == 0, "\(claimed.out)\(claimed.err)")
        #expect(claimed.out.contains("has not applied it yet"), "\(claimed.out)")
        #expect(fleet.a.allowlist() == "api.github.com\n")
        #expect(try fleet.b.fleet(["list", "--all"]).out.contains("approved (awaiting)"))

        // The restarted relay applies it, once.
        let second = try await fleet.a.startRelay()
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)\n\(second.log)")
        #expect(fleet.a.allowlist() == Self.wanted)
        #expect(fleet.a.decisionRecords(of: id).count == 1)

        // Killed again; a proposal made while no relay runs; restarted: mirrored, and the claim
        // already delivered is not applied a second time.
        second.kill()
        let (later, laterCall) = try await fleet.a.ask("api.github.com\npypi.org\ndocs.python.org\n")
        defer { laterCall.kill() }
        let third = try await fleet.a.startRelay()
        defer { third.stop() }
        #expect(await Self.mirrored(later, in: fleet), "\(third.log)")
        #expect(try fleet.sql("SELECT delivery FROM fleet_decisions WHERE id = '\(id)'") == "delivered")
        #expect(fleet.a.decisionRecords(of: id).count == 1)
    }

    @Test("the database restarted: the relay says so once, catches up when it is back, and decisions flow again")
    func databaseRestart() async throws {
        let fleet = try await FleetOfTwo.start()
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        try await fleet.server.stop()
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await relay.waitFor("unreachable"), "\(relay.log)")
        // The host's own list has it meanwhile.
        #expect(try fleet.a.cli(["list"]).out.contains(id))

        try await fleet.server.restart()
        #expect(await relay.waitFor("back: caught up"), "\(relay.log)")
        #expect(await Self.mirrored(id, in: fleet), "\(relay.log)")
        #expect(relay.log.components(separatedBy: "unreachable").count - 1 == 1, "said once: \(relay.log)")
        let approved = try fleet.b.fleet(["approve", id])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)\n\(relay.log)")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")
    }

    @Test("a relay started twice for one host: one decision, applied once")
    func relayStartedTwice() async throws {
        let fleet = try await FleetOfTwo.start()
        let one = try await fleet.a.startRelay()
        let two = try await fleet.a.startRelay()
        defer {
            one.stop()
            two.stop()
        }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await Self.mirrored(id, in: fleet), "\(one.log)\(two.log)")
        let approved = try fleet.b.fleet(["approve", id])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")
        #expect(fleet.a.decisionRecords(of: id).count == 1, "\(fleet.a.decisionRecords(of: id))")
        #expect(try fleet.sql("SELECT count(*) FROM fleet_decisions WHERE id = '\(id)'") == "1")
        #expect(await ApplyFixtures.eventually(timeout: .seconds(10)) {
            (try? fleet.sql("SELECT delivery FROM fleet_decisions WHERE id = '\(id)'")) == "delivered"
        })
    }

    @Test("the database down: the host's own approve still works; the fleet learns it when the database is back")
    func databaseDown() async throws {
        let fleet = try await FleetOfTwo.start()
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        try await fleet.server.kill()
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }

        let remote = try fleet.b.fleet(["approve", id], timeout: .seconds(60))
        #expect(remote.status == 1, "\(remote.out)\(remote.err)")
        #expect(remote.err.contains("without --database"), "\(remote.err)")

        let local = try fleet.a.cli(["approve", id, "--notes", "on a"])
        #expect(local.status == 0, "\(local.out)\(local.err)")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")

        try await fleet.server.restart()
        let learned = await ApplyFixtures.eventually(timeout: .seconds(60)) {
            (try? fleet.sql("SELECT status || ' ' || delivery FROM fleet_decisions WHERE id = '\(id)'")) == "approved delivered"
        }
        #expect(learned, "\(relay.log)")
        let late = try fleet.b.fleet(["reject", id, "--notes", "no"])
        #expect(late.status == 4, "\(late.out)\(late.err)")
        #expect(late.err.contains("already approved by") && late.err.contains("(on host a)"), "\(late.err)")
        #expect(fleet.a.decisionRecords(of: id).count == 1)
    }
}
