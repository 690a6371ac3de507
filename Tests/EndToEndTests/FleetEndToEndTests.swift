import Foundation
import PostgresTestSupport
import Testing

/// The fleet end to end: a real PostgreSQL, two hosts (`a` and `b`: separate queue and config roots),
/// a relay each, and the Python MCP client as the agent on host a. What an operator on one host sees
/// and decides about the other's bottles, through the database.
@Suite(
    "Fleet: two hosts, one database",
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (apt-get install postgresql)"),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct FleetEndToEndTests {
    static let wanted = "api.github.com\npypi.org\n"

    @Test("a proposal on host a is listed and shown on host b; approve --database on b reaches the agent on a")
    func decisionThroughTheDatabaseReachesTheAgent() async throws {
        let fleet = try await FleetOfTwo.start()
        let relayA = try await fleet.a.startRelay()
        let relayB = try await fleet.b.startRelay()
        defer {
            relayA.stop()
            relayB.stop()
        }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }

        // Visible on b's side, through the database: host, bottle, the agent waiting.
        var listed = (status: Int32(0), out: "", err: "")
        let visible = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            listed = (try? fleet.b.fleet(["list"])) ?? listed
            return listed.out.contains(id)
        }
        #expect(visible, "\(listed.out)\(listed.err)\nrelay a:\n\(relayA.log)")
        let line = try #require(listed.out.split(separator: "\n").first { $0.contains(id) })
        #expect(line.hasPrefix("a "), "\(line)")
        #expect(line.contains("web") && line.contains("pipelock-block"), "\(line)")
        #expect(try fleet.b.fleet(["list", "--host", "b"]).out == "no pending proposals in the fleet\n")
        let json = try fleet.b.fleet(["list", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let item = try #require((document["proposals"] as? [[String: Any]])?.first { $0["id"] as? String == id })
        #expect(item["host"] as? String == "a")
        #expect(item["state"] as? String == "pending")

        // show on b: the justification and the diff against a's current file.
        let shown = try fleet.b.fleet(["show", id])
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains("host      a"), "\(shown.out)")
        #expect(shown.out.contains("the build needs it"), "\(shown.out)")
        #expect(shown.out.contains("+pypi.org"), "\(shown.out)")

        // Decided on b: the claim reaches a's relay, which applies it; the agent gets the answer.
        let approved = try fleet.b.fleet(["approve", id, "--notes", "from b"])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)\nrelay a:\n\(relayA.log)")
        #expect(approved.out.contains("approved \(id) (pipelock-block for web on host a)"), "\(approved.out)")
        let answer = try call.finish(timeout: 60)
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "approved")
        #expect(structured["notes"] as? String == "from b")
        #expect(fleet.a.allowlist() == Self.wanted)
        #expect(fleet.a.decisionRecords(of: id).count == 1)

        // Seen as decided everywhere: a's own show, the database's row, a second decision refused.
        let local = try fleet.a.cli(["show", id])
        #expect(local.out.contains("approved"), "\(local.out)")
        let again = try fleet.b.fleet(["reject", id, "--notes", "too late"])
        #expect(again.status == 4, "\(again.out)\(again.err)")
        #expect(again.err.contains("already approved by"), "\(again.err)")
        #expect(again.err.contains("(on host a)"), "\(again.err)")
        let delivered = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            (try? fleet.sql("SELECT delivery FROM fleet_decisions WHERE id = '\(id)'")) == "delivered"
        }
        #expect(delivered)
    }

    @Test("relays with roles of their own: each mirrors and applies only its host's bottles, an operator role decides for both, a host name stays its relay's")
    func relaysWithTheirOwnRoles() async throws {
        let password = "fleet-role-password"
        let fleet = try await FleetOfTwo.startWithRoles(password: password)
        let relayA = try await fleet.a.startRelay()
        let relayB = try await fleet.b.startRelay()
        defer {
            relayA.stop()
            relayB.stop()
        }
        #expect(try fleet.sql("SELECT string_agg(host || '=' || relay_role, ' ' ORDER BY host) FROM fleet_hosts") == "a=relay_a b=relay_b")
        let (idA, callA) = try await fleet.a.ask(Self.wanted)
        defer { callA.kill() }
        let (idB, callB) = try await fleet.b.ask("pypi.org\n")
        defer { callB.kill() }
        let mirrored = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.sql("SELECT count(*) FROM fleet_proposals WHERE id IN ('\(idA)', '\(idB)')")) == "2"
        }
        #expect(mirrored, "relay a:\n\(relayA.log)\nrelay b:\n\(relayB.log)")

        // With b's relay role, `list --database` sees b's bottles only.
        let asRelayB = try fleet.b.fleet(["list"])
        #expect(asRelayB.out.contains(idB) && !asRelayB.out.contains(idA), "\(asRelayB.out)\(asRelayB.err)")

        // The operator's role sees and decides both; each host's relay applies its own.
        let operatorURL = fleet.server.url(database: String(fleet.database.split(separator: "/").last ?? ""), role: "ops")
        var environment = fleet.b.environment
        environment["PGPASSWORD"] = password
        func asOperator(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try ApplyFixtures.run([BuiltBinary.path] + arguments + ["--database", operatorURL], environment: environment)
        }
        let listed = try asOperator(["list"])
        #expect(listed.out.contains(idA) && listed.out.contains(idB), "\(listed.out)\(listed.err)")
        let approved = try asOperator(["approve", idA, "--notes", "from ops"])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)\nrelay a:\n\(relayA.log)")
        let rejected = try asOperator(["reject", idB, "--notes", "not on b"])
        #expect(rejected.status == 0, "\(rejected.out)\(rejected.err)\nrelay b:\n\(relayB.log)")
        #expect((try callA.finish(timeout: 60)["structured"] as? [String: Any])?["status"] as? String == "approved")
        #expect((try callB.finish(timeout: 60)["structured"] as? [String: Any])?["status"] as? String == "rejected")
        #expect(fleet.a.allowlist() == Self.wanted)
        let delivered = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            (try? fleet.sql("SELECT string_agg(delivery || ' ' || claimed_role, ',') FROM fleet_decisions")) == "delivered ops,delivered ops"
        }
        #expect(delivered, "\((try? fleet.sql("SELECT * FROM fleet_decisions")) ?? "")")
        let shown = try asOperator(["show", idA])
        #expect(shown.out.contains("recorded  by database role \"ops\""), "\(shown.out)\(shown.err)")

        // b's relay role asking for host a's name is refused and stops, saying what to do.
        let usurper = try ApplyFixtures.run(
            [BuiltBinary.path, "relay", "--database", fleet.b.database, "--host-name", "a"], environment: fleet.b.environment,
            timeout: .seconds(60))
        #expect(usurper.status == 1, "\(usurper.err)")
        #expect(usurper.err.contains("host name a is held by the database role \"relay_a\""), "\(usurper.err)")
        #expect(usurper.err.contains("UPDATE fleet_hosts SET relay_role = 'relay_b' WHERE host = 'a';"), "\(usurper.err)")
        #expect(try fleet.sql("SELECT relay_role FROM fleet_hosts WHERE host = 'a'") == "relay_a")
    }

    @Test("list --database pages: --limit, --offset, --bottle, the line under the table, the JSON's offset and total")
    func listPages() async throws {
        let fleet = try await FleetOfTwo.start()
        let migrated = try fleet.b.fleet(["relay", "--migrate-only"])
        #expect(migrated.status == 0, "\(migrated.err)")
        // Five pending proposals of a host with no relay (z), one minute apart, bottles web and api in turn.
        _ = try fleet.sql(
            """
            INSERT INTO fleet_hosts (host) VALUES ('z');
            INSERT INTO fleet_bottles (host, bottle) VALUES ('z', 'api'), ('z', 'web');
            INSERT INTO fleet_proposals (host, bottle, id, tool, proposal, proposal_sha256, proposed_file, justification, created_at)
            SELECT 'z', CASE WHEN n % 2 = 0 THEN 'api' ELSE 'web' END, format('20260101-%s-%s', lpad(n::text, 6, '0'), lpad(n::text, 12, '0')),
                   'pipelock-block', convert_to('p' || n, 'UTF8'), encode(sha256(convert_to('p' || n, 'UTF8')), 'hex'),
                   'example.com', 'proposal ' || n, timestamptz '2026-01-01 00:00:00+00' + n * interval '1 minute'
            FROM generate_series(1, 5) AS n;
            """)
        func id(_ n: Int) -> String { "20260101-" + String(repeating: "0", count: 5) + "\(n)-" + String(repeating: "0", count: 11) + "\(n)" }

        let first = try fleet.b.fleet(["list", "--limit", "2"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains(id(1)) && first.out.contains(id(2)) && !first.out.contains(id(3)), "\(first.out)")
        #expect(
            first.out.hasSuffix(
                "showing 1–2 of 5 pending proposals, oldest first; narrow with --host or --bottle, or the next page: --offset 2 --limit 2\n"),
            "\(first.out)")
        let last = try fleet.b.fleet(["list", "--limit", "2", "--offset", "4"])
        #expect(last.out.contains(id(5)) && !last.out.contains(id(4)), "\(last.out)")
        #expect(last.out.hasSuffix("showing 5–5 of 5 pending proposals, oldest first; narrow with --host or --bottle (the last page)\n"), "\(last.out)")
        let api = try fleet.b.fleet(["list", "--bottle", "api"])
        #expect(api.out.contains(id(2)) && api.out.contains(id(4)) && !api.out.contains(id(1)), "\(api.out)")
        #expect(!api.out.contains("showing"), "one page holds them all: no line under the table\n\(api.out)")

        let json = try fleet.b.fleet(["list", "--json", "--limit", "2", "--offset", "1"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "\(json.out)")
        #expect(document["offset"] as? Int == 1 && document["total"] as? Int == 5)
        #expect((document["proposals"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id(2), id(3)])

        // Paging is the fleet's: without --database, and with a limit out of range, a usage error.
        let local = try fleet.a.cli(["list", "--offset", "3"])
        #expect(local.status == 2 && local.err.contains("--offset pages through the fleet's proposals: it needs --database"), "\(local.err)")
        let zero = try fleet.b.fleet(["list", "--limit", "0"])
        #expect(zero.status == 2 && zero.err.contains("--limit must be from 1 to 10000, not 0"), "\(zero.err)")
    }

    @Test("two operators race through the database: one decision, the other told who won")
    func twoOperatorsRace() async throws {
        let fleet = try await FleetOfTwo.start()
        let relayA = try await fleet.a.startRelay()
        defer { relayA.stop() }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        let seen = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.sql("SELECT count(*) FROM fleet_proposals WHERE id = '\(id)'")) == "1"
        }
        #expect(seen, "\(relayA.log)")

        let database = fleet.database
        let environments = [fleet.a.environment, fleet.b.environment]
        let results = try await withThrowingTaskGroup(of: (Int, (status: Int32, out: String, err: String)).self) { group in
            for (index, decision) in [["approve", id], ["reject", id, "--notes", "no"]].enumerated() {
                group.addTask {
                    (index, try ApplyFixtures.run(
                        [BuiltBinary.path] + decision + ["--database", database], environment: environments[index]))
                }
            }
            var results: [Int: (status: Int32, out: String, err: String)] = [:]
            for try await (index, result) in group { results[index] = result }
            return results
        }
        let statuses = results.values.map(\.status).sorted()
        #expect(statuses == [0, 4], "\(results)")
        let loser = try #require(results.values.first { $0.status == 4 })
        #expect(loser.err.contains("is already") && loser.err.contains("(on host a)"), "\(loser.err)")
        let winner = try #require(results.first { $0.value.status == 0 }).key == 0 ? "approved" : "rejected"
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == winner, "\(answer)")
        #expect(fleet.a.decisionRecords(of: id).count == 1)
        #expect(try fleet.sql("SELECT count(*) || ' ' || status FROM fleet_decisions WHERE id = '\(id)' GROUP BY status") == "1 \(winner)")
    }

    @Test("watch runs the relay when host.toml has [fleet] database: host a's proposal reaches the fleet, a decision comes back")
    func watchRunsTheRelay() async throws {
        let fleet = try await FleetOfTwo.start()
        fleet.a.scratch.write("[fleet]\ndatabase = \"\(fleet.database)\"\nhost_name = \"a\"\n", at: "host.toml")
        let log = fleet.a.scratch.path + "/watch.log"
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let watch = try ApplyFixtures.spawn([BuiltBinary.path, "watch"], environment: fleet.a.environment, stderr: fd)
        close(fd)
        defer {
            kill(watch, SIGTERM)
            var status: Int32 = 0
            waitpid(watch, &status, 0)
        }
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(await ApplyFixtures.eventually(timeout: .seconds(60)) { text().contains("caught up") }, "\(text())")
        #expect(text().contains("fleet relay (host a)"), "\(text())")

        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.b.fleet(["list"]).out.contains(id)) == true
        }, "\(text())")
        let rejected = try fleet.b.fleet(["reject", id, "--notes", "use the mirror"])
        #expect(rejected.status == 0, "\(rejected.out)\(rejected.err)\n\(text())")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "rejected", "\(answer)")
        #expect((answer["structured"] as? [String: Any])?["notes"] as? String == "use the mirror", "\(answer)")
    }

    @Test("modify --database on b: the agent on a gets its final file; --edit and --force are refused with --database")
    func modifyThroughTheDatabase() async throws {
        let fleet = try await FleetOfTwo.start()
        let relayA = try await fleet.a.startRelay()
        defer { relayA.stop() }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.sql("SELECT count(*) FROM fleet_proposals WHERE id = '\(id)'")) == "1"
        }, "\(relayA.log)")
        for refused in [["modify", id, "--edit"], ["approve", id, "--force"], ["approve", id, "--for", "1h"]] {
            let run = try fleet.b.fleet(refused)
            #expect(run.status == 2, "\(refused): \(run.out)\(run.err)")
            #expect(run.err.contains("cannot be used with --database"), "\(run.err)")
        }
        let final = "api.github.com\nfiles.pythonhosted.org\n"
        let file = fleet.b.scratch.write(final, at: "modified")
        let modified = try fleet.b.fleet(["modify", id, "--file", file, "--notes", "the mirror instead"])
        #expect(modified.status == 0, "\(modified.out)\(modified.err)\n\(relayA.log)")
        #expect(modified.out.contains("modified \(id)"), "\(modified.out)")
        let answer = try call.finish(timeout: 60)
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "modified")
        #expect(fleet.a.allowlist() == final)
    }

    @Test("with [fleet] approvals = 2, approve/modify --database refuse what needs two operators: no way around the page's threshold")
    func commandRespectsTheThreshold() async throws {
        let fleet = try await FleetOfTwo.start()
        let relayA = try await fleet.a.startRelay()
        defer { relayA.stop() }
        fleet.b.scratch.write("[fleet]\napprovals = 2\n", at: "host.toml")
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        #expect(await ApplyFixtures.eventually(timeout: .seconds(20)) {
            (try? fleet.sql("SELECT count(*) FROM fleet_proposals WHERE id = '\(id)'")) == "1"
        }, "\(relayA.log)")
        // A harmless proposal modified into a private address (a critical hint) needs two operators.
        let file = fleet.b.scratch.write("api.github.com\n10.0.0.1\n", at: "widened")
        let widened = try fleet.b.fleet(["modify", id, "--file", file, "--notes", "wider"])
        #expect(widened.status == 1, "\(widened.out)\(widened.err)")
        #expect(widened.err.contains("needs 2 approvals from distinct operators"), "\(widened.err)")
        #expect(widened.err.contains("fleet page"), "\(widened.err)")
        #expect(try fleet.sql("SELECT count(*) FROM fleet_decisions WHERE id = '\(id)'") == "0")
        // The proposal as proposed needs one: approved.
        let approved = try fleet.b.fleet(["approve", id])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)\n\(relayA.log)")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")
    }
}
