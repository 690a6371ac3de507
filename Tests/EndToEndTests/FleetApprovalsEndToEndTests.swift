import Foundation
import PostgresTestSupport
import Testing

/// Approval thresholds the owning host sets, end to end: host a's relay works out each proposal's
/// count with a's own settings (`approvals = N` on an ask rule, `[fleet] approvals` for a critical
/// hint) and mirrors it; `approve --database` on b requires it whatever b's own settings say, and
/// says where it comes from; an edit of a's settings reaches the next proposal without a restart.
@Suite(
    "Fleet: approvals the owning host asks for",
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (apt-get install postgresql)"),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct FleetApprovalsEndToEndTests {
    static let wanted = "api.github.com\npypi.org\n"

    static func holdWeb(_ approvals: String) -> String {
        "[[policy.rule]]\nname = \"hold-web\"\nbottles = [\"web\"]\naction = \"ask\"\napprovals = \(approvals)\n"
    }

    /// The count and rule the database has for `id` ("2 hold-web"), once the relay mirrored it.
    static func requirement(of id: String, in fleet: FleetOfTwo, is expected: String) async -> (Bool, String) {
        var seen = ""
        let met = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            seen =
                (try? fleet.sql(
                    "SELECT required_approvals || ' ' || coalesce(approvals_rule, '-') FROM fleet_proposals WHERE id = '\(id)'"))
                ?? ""
            return seen == expected
        }
        return (met, seen)
    }

    @Test("a rule's approvals = 2 on host a: approve and modify --database on b are refused naming the rule and host, though b says approvals = 1; one rejection decides")
    func ruleThroughTheCLI() async throws {
        let fleet = try await FleetOfTwo.start()
        fleet.a.scratch.write(Self.holdWeb("2"), at: "host.toml")
        fleet.b.scratch.write("[fleet]\napprovals = 1\n", at: "host.toml")
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        let (id, call) = try await fleet.a.ask(Self.wanted)
        defer { call.kill() }
        let (mirrored, seen) = await Self.requirement(of: id, in: fleet, is: "2 hold-web")
        #expect(mirrored, "\(seen)\n\(relay.log)")

        let shown = try fleet.b.fleet(["show", id])
        #expect(shown.out.contains("approvals needs 2 approvals from distinct operators (rule hold-web on host a)"), "\(shown.out)")
        let approved = try fleet.b.fleet(["approve", id, "--wait", "5"])
        #expect(approved.status == 1, "\(approved.out)\(approved.err)")
        #expect(
            approved.err.contains(
                "proposal \(id) on host a needs 2 approvals from distinct operators (rule hold-web on host a): none of 2 so far; nothing was decided"),
            "\(approved.err)")
        #expect(approved.err.contains("bottle-supervise web --database"), "\(approved.err)")
        let modified = try fleet.b.fleet(["modify", id, "--file", fleet.b.scratch.write("api.github.com\nfiles.pythonhosted.org\n", at: "final"), "--wait", "5"])
        #expect(modified.status == 1, "\(modified.out)\(modified.err)")
        #expect(modified.err.contains("(rule hold-web on host a)"), "\(modified.err)")
        #expect(try fleet.sql("SELECT count(*) FROM fleet_decisions WHERE id = '\(id)'") == "0")
        #expect(fleet.a.allowlist() == "api.github.com\n")

        // One rejection rejects: no threshold on a refusal.
        let rejected = try fleet.b.fleet(["reject", id, "--notes", "not on web", "--wait", "30"])
        #expect(rejected.status == 0, "\(rejected.out)\(rejected.err)\n\(relay.log)")
        let answer = try call.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "rejected", "\(answer)")
        #expect(fleet.a.allowlist() == "api.github.com\n")
    }

    @Test("host a's settings edited while its relay runs: the next proposal gets the new count; a settings file that stops parsing lowers nothing; a bad key is named")
    func settingsChangePickedUp() async throws {
        let fleet = try await FleetOfTwo.start()
        fleet.a.scratch.write(Self.holdWeb("2"), at: "host.toml")
        let valid = try fleet.a.cli(["policy", "check"])
        #expect(valid.out.contains("hold-web (host.toml:1): ask; bottles web; max_risk notice; 2 approvals through the fleet"), "\(valid.out)\(valid.err)")
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        let (first, firstCall) = try await fleet.a.ask(Self.wanted)
        defer { firstCall.kill() }
        let (mirrored, seen) = await Self.requirement(of: first, in: fleet, is: "2 hold-web")
        #expect(mirrored, "\(seen)\n\(relay.log)")

        // Edited: the rule asks 3, and [fleet] approvals = 5 for a critical hint (this proposal has none).
        fleet.a.scratch.write("[fleet]\napprovals = 5\n\n" + Self.holdWeb("3"), at: "host.toml")
        let (second, secondCall) = try await fleet.a.ask("api.github.com\ndocs.python.org\n")
        defer { secondCall.kill() }
        let (edited, editedSeen) = await Self.requirement(of: second, in: fleet, is: "3 hold-web")
        #expect(edited, "\(editedSeen)\n\(relay.log)")
        #expect(try fleet.sql("SELECT critical_approvals FROM fleet_proposals WHERE id = '\(second)'") == "5")
        let explained = try fleet.a.cli(["policy", "explain", second])
        #expect(
            explained.out.contains("through the fleet: needs 3 approvals from distinct operators (rule hold-web)"),
            "\(explained.out)\(explained.err)")
        let refused = try fleet.b.fleet(["approve", second, "--wait", "1"])
        #expect(refused.err.contains("needs 3 approvals from distinct operators (rule hold-web on host a)"), "\(refused.err)")

        // A value out of range: the settings are refused by every reader, naming the file, the line and the rule …
        fleet.a.scratch.write(Self.holdWeb("17"), at: "host.toml")
        let checked = try fleet.a.cli(["policy", "check"])
        #expect(checked.status != 0, "\(checked.out)\(checked.err)")
        #expect(
            (checked.out + checked.err).contains(
                "host.toml:5: policy.rule[1].approvals (rule \"hold-web\") must be a whole number from 1 to 16"),
            "\(checked.out)\(checked.err)")
        // … and the relay keeps the last settings that read: the next proposal is not let through on fewer.
        let (third, thirdCall) = try await fleet.a.ask("api.github.com\nfiles.pythonhosted.org\n")
        defer { thirdCall.kill() }
        let (kept, keptSeen) = await Self.requirement(of: third, in: fleet, is: "3 hold-web")
        #expect(kept, "\(keptSeen)\n\(relay.log)")
        #expect(relay.log.contains("policy.rule[1].approvals"), "\(relay.log)")

        // approvals on an approve rule is refused as well.
        fleet.a.scratch.write(
            "[[policy.rule]]\nname = \"docs\"\nhosts = [\"docs.python.org\"]\naction = \"approve\"\napprovals = 2\n", at: "host.toml")
        let approveRule = try fleet.a.cli(["policy", "check"])
        #expect(
            (approveRule.out + approveRule.err).contains("(rule \"docs\"): approvals = N is for an ask rule"),
            "\(approveRule.out)\(approveRule.err)")
    }
}
