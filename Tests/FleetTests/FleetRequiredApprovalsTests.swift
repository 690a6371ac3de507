import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Risk
import Testing

/// The approvals the owning host asks for, as mirrored (`required_approvals`, `approvals_rule`,
/// `critical_approvals`), and what a decider makes of them with its own `[fleet] approvals`.
@Suite("Fleet: the owning host's required approvals")
struct FleetRequiredApprovalsTests {
    @Test(
        "mirrored and read back; a replay writes nothing; a changed count is one write; the database refuses a count out of range",
        .enabled(if: FleetTestDatabase.isAvailable))
    func mirrored() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let a = FleetFixtures.host("a")
            var held = FleetFixtures.proposal()
            held.hostApprovals = HostApprovals(required: 3, rule: "hold-prod", critical: 2)
            let plain = FleetFixtures.proposal()
            let snapshot = FleetSnapshot(host: a, bottles: [held.bottle], proposals: [held, plain])
            #expect(try await store.mirror(snapshot).proposalsWritten == 2)
            let stored = Dictionary(uniqueKeysWithValues: try await store.proposals(host: a).map { ($0.id, $0) })
            #expect(stored[held.id]?.hostApprovals == HostApprovals(required: 3, rule: "hold-prod", critical: 2))
            #expect(stored[plain.id]?.hostApprovals == HostApprovals())
            #expect(try await store.mirror(snapshot).isEmpty)
            held.hostApprovals = HostApprovals(required: 2, rule: "hold-prod", critical: 2)
            #expect(try await store.mirror(FleetSnapshot(host: a, bottles: [held.bottle], proposals: [held, plain])).proposalsWritten == 1)
            #expect(throws: (any Error).self) {
                try database.psql("UPDATE fleet_proposals SET required_approvals = 17 WHERE id = '\(held.id)'")
            }
            #expect(try database.psql("SELECT required_approvals FROM fleet_proposals WHERE id = '\(held.id)'") == "2")
        }
    }

    static func row(_ approvals: HostApprovals, hints: [RiskHint] = []) -> FleetProposalRow {
        var row = FleetFixtures.proposal(host: "web-1", file: "api.github.com\n", hints: hints)
        row.currentFile = "pypi.org\n"
        row.hostApprovals = approvals
        return row
    }

    @Test("a decider requires the higher of the host's count and its own, and says where it comes from")
    func requirement() {
        let console = ApprovalThreshold(critical: 1)
        let strict = ApprovalThreshold(critical: 4, origin: "in /etc/host.toml")
        let critical = [RiskHint(.critical, "metadata-service", "a metadata service", line: 1)]

        let ruled = ApprovalRequirement(for: Self.row(HostApprovals(required: 2, rule: "hold-prod")), applying: "api.github.com\n", threshold: console)
        #expect(ruled.count == 2)
        #expect(ruled.needs == "needs 2 approvals from distinct operators (rule hold-prod on host web-1)")
        #expect(ruled.progress(["alice"]) == "1 of 2 so far, by alice")
        #expect(ruled.progress([]) == "none of 2 so far")

        // A console set to 1 does not lower the host's count; a stricter one raises it for a critical proposal.
        let hostCritical = Self.row(HostApprovals(required: 3, critical: 3), hints: critical)
        #expect(ApprovalRequirement(for: hostCritical, applying: "api.github.com\n", threshold: console).source
            == "a critical risk hint, [fleet] approvals on host web-1")
        let raised = ApprovalRequirement(for: hostCritical, applying: "api.github.com\n", threshold: strict)
        #expect(raised.count == 4)
        #expect(raised.source == "a critical risk hint, [fleet] approvals in /etc/host.toml")
        // The stricter console does not raise a harmless proposal's count: its setting is for critical ones.
        #expect(ApprovalRequirement(for: Self.row(HostApprovals(required: 2, rule: "r")), applying: "api.github.com\n", threshold: strict).count == 2)

        // Any Modify needs what the host says a Modify of this proposal needs (a critical file, a rule's hosts).
        let harmless = Self.row(HostApprovals(critical: 3))
        #expect(ApprovalRequirement(for: harmless, applying: "api.github.com\n", threshold: console).count == 1)
        let widened = ApprovalRequirement(for: harmless, applying: "api.github.com\n10.0.0.1\n", threshold: console)
        #expect(widened.count == 3)
        #expect(widened.source == "a Modify: the most host web-1's rules or [fleet] approvals ask for this bottle and tool")
        #expect(ApprovalRequirement(for: harmless, applying: "api.github.com\nexample.org\n", threshold: console).count == 3)
    }
}
