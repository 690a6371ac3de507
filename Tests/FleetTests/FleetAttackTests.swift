import Console
import Fleet
import Foundation
import Logging
import PostgresNIO
import Queue
import Testing

@testable import Fleet

/// Holes found by the attacker's read of the fleet changes of 2026-12-07
/// (review19), each against a real PostgreSQL with the roles of
/// ``FleetRowSecurityTests/fleet()``. Each is wrapped in `withKnownIssue`:
/// the test documents the hole and starts failing (as "known issue not
/// recorded") once it is closed, when the wrapper should go.
@Suite("Fleet attacks (review19, open holes)", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetAttackTests {
    @Test("an operator role alone reaches a proposal's required approvals: it writes other operators' approvals and the decision itself")
    func operatorRoleBypassesThreshold() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        let b = fleet.b
        try fleet.database.psql("UPDATE fleet_proposals SET required_approvals = 3 WHERE host = 'b'")
        try fleet.database.psql("INSERT INTO fleet_operators (name) VALUES ('alice'), ('bob'), ('carol')")
        let key = "'\(b.host)', '\(b.bottle)', '\(b.id)'"
        let digest = "'\(b.proposalSHA256)'"
        let fileDigest = "'\(SHA256Hex.of(b.proposedFile))'"
        withKnownIssue("fleet_approvals has no row security: the operator group writes any operator's approval") {
            #expect(throws: (any Error).self) {
                try fleet.sql(
                    as: "ops",
                    "INSERT INTO fleet_approvals (host, bottle, id, operator, proposal_sha256, file_sha256) VALUES "
                        + "(\(key), 'bob', \(digest), \(fileDigest)), (\(key), 'carol', \(digest), \(fileDigest))")
            }
        }
        withKnownIssue("the threshold is the consoles' word: the operator group's claim policy does not count approvals") {
            #expect(throws: (any Error).self) {
                try fleet.sql(
                    as: "ops",
                    "INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery) VALUES "
                        + "(\(key), 'approved', 'alice, bob, carol', \(digest), 'awaiting-host')")
            }
        }
        // What the owning relay will find and apply without recounting.
        let awaiting = try await fleet.asRole("relay_b") { store in try await store.awaitingDecisions(host: b.host) }
        #expect(awaiting.map(\.decidedBy) == ["alice, bob, carol"])
    }

    @Test("one relay role holding the migration's advisory lock keeps every other relay from starting a session")
    func migrationLockHeldByOneRelay() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        let logger = Logger(label: "attack")
        try await fleet.asRole("relay_a") { attacker in
            try await attacker.client.withConnection { connection in
                _ = try await connection.query("SELECT pg_advisory_lock(\(FleetSchema.migrationLock))", logger: logger)
                try await fleet.asRole("relay_b") { victim in
                    // Relay.session runs migrate() first, within 10 s, on every (re)connect.
                    await withKnownIssue("migrate() takes the lock even when the schema is current") {
                        _ = try await FleetDeadline.within(.seconds(5), doing: "migrating") {
                            try await victim.migrator.migrate()
                        }
                    }
                }
                _ = try await connection.query("SELECT pg_advisory_unlock_all()", logger: logger)
            }
        }
    }

    @Test("a relay role listening on fleet_changes hears another host's bottle names and proposal ids")
    func listenerHearsOtherHosts() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        try await fleet.asRole("relay_a") { store in
            let changes = try await store.changes(channel: FleetSchema.changeChannel)
            try fleet.sql(as: "relay_b", "UPDATE fleet_proposals SET waiting = true WHERE host = 'b'")
            let heard = try await FleetDeadline.within(.seconds(10), doing: "listening") { () -> String? in
                var iterator = changes.makeAsyncIterator()
                return try await iterator.next()
            }
            withKnownIssue("NOTIFY payloads are not covered by row security") {
                #expect(heard == nil || heard?.hasPrefix("b/") == false, "relay a heard \(heard ?? "nothing")")
            }
        }
    }

    @Test("claims announced without end (NOTIFY fleet_decisions 'b', which any role may send) starve the heartbeat and every mirror")
    func claimFloodStarves() {
        var work = RelayWork()
        let quiet = try! BottleSlug("quiet")
        work.queueChanged(quiet)
        work.heartbeatTick()
        var steps: [RelayWork.Step] = []
        for _ in 0..<1_000 {
            // One more notification arrives during each (empty) delivery's round trip.
            work.claimsAnnounced()
            if let step = work.next() { steps.append(step) }
        }
        let heartbeatSent = steps.contains(.heartbeat)
        let bottleMirrored = steps.contains(.mirrorBottle(quiet))
        withKnownIssue("claims always go first, with no turn for the rest") {
            #expect(heartbeatSent, "1,000 steps, all deliverClaims")
            #expect(bottleMirrored)
        }
    }

    @Test("one operator's Modify turns a proposal the host holds for one operator into a file the host's rule holds for two")
    func modifyEscapesTheHostsRule() throws {
        let policy = try HostPolicy.parse(
            """
            [[policy.rule]]
            name = "hold-corp"
            tool = "pipelock-block"
            hosts = ["*.corp.example"]
            action = "ask"
            approvals = 2
            """, file: "host.toml")
        var row = FleetFixtures.proposal(host: "web-1", file: "pypi.org\n")
        row.currentFile = "old.example\n"
        let modified = "old.example\ndb.corp.example\n"
        func hostCount(_ file: String) -> Int {
            let proposal = Proposal(
                id: row.id, bottle: row.bottle, tool: row.tool, proposedFile: file, justification: "j",
                currentFileSHA256: nil)
            return PolicyEvaluator.approvalsRule(for: proposal, current: row.currentFile, policy: policy)?.approvals ?? 1
        }
        #expect(hostCount(row.proposedFile) == 1, "the agent's proposal: no rule with approvals")
        #expect(hostCount(modified) == 2, "the operator's final file: the host's rule hold-corp")
        row.hostApprovals = HostApprovals(required: hostCount(row.proposedFile))
        let needed = ApprovalRequirement(for: row, applying: modified, threshold: ApprovalThreshold())
        withKnownIssue("the host's rules are applied to the proposed file only; a Modify is recounted for critical hints alone") {
            #expect(needed.count == 2)
        }
    }

    @Test("one relay role's row with a bottle name or tool the readers refuse, on its own host, stops every operator's fleet list")
    func oneBadRowStopsTheFleetList() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        try fleet.sql(
            as: "relay_a",
            """
            INSERT INTO fleet_bottles VALUES ('a', E'Evil\\x1b[2J');
            INSERT INTO fleet_proposals (host, bottle, id, tool, proposal, proposal_sha256, proposed_file, justification, created_at)
            VALUES ('a', E'Evil\\x1b[2J', '20261207-010000-cccccccccccc', 'no-such-tool', 'z', encode(sha256('z'), 'hex'), 'f', 'j', now());
            """)
        try await fleet.asRole("ops") { store in
            await withKnownIssue("no CHECK on fleet_bottles.bottle or fleet_proposals.tool; the reader fails the whole list") {
                let hosts = try await store.proposals(includeDecided: true).map(\.host.rawValue)
                #expect(hosts.contains("b"), "host b's proposal is listed whatever host a's relay wrote")
            }
        }
    }

    @Test("an operator role claims a withdrawal in the agent's name, and the owning relay would record it as the agent's")
    func operatorForgesTheAgentsWithdrawal() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        let b = fleet.b
        withKnownIssue("operator_claims does not restrict status: withdrawn and expired are the agent's and the host's words") {
            #expect(throws: (any Error).self) {
                try fleet.sql(
                    as: "ops",
                    "INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery) VALUES "
                        + "('\(b.host)', '\(b.bottle)', '\(b.id)', 'withdrawn', 'agent', '\(b.proposalSHA256)', 'awaiting-host')")
            }
        }
        let verdict = ClaimVerdict.of(
            status: .withdrawn, decidedBy: "agent", proposalSHA256: RelayDecisionTests.digest,
            entry: try RelayDecisionTests.entry(), host: "b")
        withKnownIssue("ClaimVerdict applies (Applier.record writes 'withdrawn by agent' into the queue and the audit log)") {
            #expect(verdict != .apply)
        }
    }

    @Test("one relay role locks fleet_proposals and fleet_decisions whole (its table-wide UPDATE grant allows LOCK TABLE): every operator's read and every relay's write waits")
    func relayLocksTheTables() async throws {
        let fleet = try await FleetRowSecurityTests.fleet()
        let logger = Logger(label: "attack")
        try await fleet.asRole("relay_a") { attacker in
            try await attacker.client.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: logger)
                _ = try await connection.query(
                    "LOCK TABLE fleet_proposals, fleet_decisions IN ACCESS EXCLUSIVE MODE", logger: logger)
                try await fleet.asRole("ops") { store in
                    await withKnownIssue("relay roles hold table-level UPDATE; a column list would refuse LOCK TABLE") {
                        _ = try await FleetDeadline.within(.seconds(5), doing: "listing") {
                            try await store.proposals(includeDecided: true)
                        }
                    }
                }
                _ = try await connection.query("ROLLBACK", logger: logger)
            }
        }
    }
}
