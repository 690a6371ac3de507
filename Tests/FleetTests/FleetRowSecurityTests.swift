import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

/// Each host's relay with its own role, operators with theirs: what row-level
/// security lets each of them read and write, host names held by their
/// relay's role, and who claimed a decision (migration 1,
/// `FleetSchema.rowSecurity`), against a real PostgreSQL. The stores log in
/// as the roles (so `session_user` is theirs); raw statements a hostile role
/// could send go through psql with `SET ROLE`, which row-level security
/// treats as that role.
@Suite("Fleet row-level security against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetRowSecurityTests {
    static let password = "role-password"

    /// A migrated database with LOGIN roles `relay_a`, `relay_b` (relay group) and `ops` (operator
    /// group); relay a has mirrored one proposal of host a, relay b one of host b.
    struct TwoHosts {
        let database: FleetTestDatabase
        let a: FleetProposalRow
        let b: FleetProposalRow

        func asRole<Result: Sendable>(_ role: String, _ body: (FleetStore) async throws -> Result) async throws -> Result {
            try await database.withStore(role: role, password: FleetRowSecurityTests.password, migrate: false, body)
        }

        /// psql as `role` (SET ROLE: row-level security applies as to that role).
        @discardableResult
        func sql(as role: String, _ text: String) throws -> String { try database.psql("SET ROLE \(role);\n\(text)") }
    }

    static func fleet() async throws -> TwoHosts {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { _ in }
        for (role, group) in [
            ("relay_a", FleetSchema.relayGroup), ("relay_b", FleetSchema.relayGroup), ("ops", FleetSchema.operatorGroup),
        ] {
            try database.server.createRole(role, password: password, attributes: "IN ROLE \(group)")
        }
        let fleet = TwoHosts(
            database: database, a: FleetFixtures.proposal(host: "a", bottle: "web"),
            b: FleetFixtures.proposal(host: "b", bottle: "api"))
        for (role, row) in [("relay_a", fleet.a), ("relay_b", fleet.b)] {
            try await fleet.asRole(role) { store in
                try await store.registerHost(row.host, version: "test")
                try await store.mirror(FleetSnapshot(host: row.host, bottles: [row.bottle], proposals: [row]))
            }
        }
        return fleet
    }

    @Test("a relay reads and writes only its own host's rows: not b's bottles, proposals or decisions")
    func relaysStayOnTheirHost() async throws {
        let fleet = try await Self.fleet()
        let b = fleet.b
        try await fleet.asRole("ops") { store in
            for row in [fleet.a, b] {
                guard case .won = try await store.decide(FleetFixtures.claim(row, by: "alice")) else {
                    Issue.record("the operator's claim on \(row.host) did not win")
                    return
                }
            }
        }
        try await fleet.asRole("relay_a") { store in
            #expect(try await store.proposals(includeDecided: true).map(\.host) == [fleet.a.host], "only its own host")
            #expect(try await store.awaitingDecisions(host: b.host).isEmpty, "b's claims are not a's to read")
            #expect(try await store.decision(host: b.host, bottle: b.bottle, id: b.id) == nil)
            #expect(try await store.awaitingDecisions(host: fleet.a.host).map(\.id) == [fleet.a.id])

            // Writing b's rows through the store: refused, or nothing it can see to change.
            var rewritten = b
            rewritten.justification = "rewritten by relay a"
            await #expect(throws: FleetStoreError.self) {
                try await store.mirror(FleetSnapshot(host: b.host, bottles: [b.bottle], proposals: [rewritten]))
            }
            await #expect(throws: FleetStoreError.self) {
                try await store.mirror(FleetSnapshot(host: b.host, bottles: [try BottleSlug("planted")], proposals: []))
            }
            #expect(try await store.recordDelivery(host: b.host, bottle: b.bottle, id: b.id, .refused(reason: "forged")) == nil)
            // Its own: recorded.
            let own = try await store.recordDelivery(host: fleet.a.host, bottle: fleet.a.bottle, id: fleet.a.id, .delivered(nil))
            #expect(own?.delivery == .delivered)
        }
        // Raw statements as relay a: b's rows are invisible to UPDATE, and INSERTs fail the policy.
        #expect(try fleet.sql(as: "relay_a", "UPDATE fleet_proposals SET archived = true WHERE host = 'b' RETURNING id") == "")
        #expect(try fleet.sql(as: "relay_a", "UPDATE fleet_decisions SET delivery = 'delivered' WHERE host = 'b' RETURNING id") == "")
        #expect(try fleet.sql(as: "relay_a", "SELECT count(*) FROM fleet_decisions WHERE host = 'b'") == "0")
        // A table of the policy's name in the role's own pg_temp claiming host b changes nothing.
        #expect(
            try fleet.sql(
                as: "relay_a",
                """
                CREATE TEMP TABLE fleet_hosts (host text, relay_role text);
                INSERT INTO fleet_hosts VALUES ('b', 'relay_a');
                SELECT count(*) FROM fleet_proposals WHERE host = 'b';
                """) == "0")
        #expect(throws: PostgresServerError.self) {
            try fleet.sql(as: "relay_a", "INSERT INTO fleet_bottles (host, bottle) VALUES ('b', 'planted')")
        }
        #expect(throws: PostgresServerError.self) {
            try fleet.sql(
                as: "relay_a",
                """
                INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery)
                VALUES ('b', 'api', '\(b.id.rawValue)', 'approved', 'mallory', '\(b.proposalSHA256)', 'delivered')
                ON CONFLICT DO NOTHING
                """)
        }
        #expect(throws: PostgresServerError.self) {
            try fleet.sql(as: "relay_a", "DELETE FROM fleet_proposals WHERE host = 'b'")
        }
        let stored = try fleet.database.psql(
            "SELECT justification || '|' || archived || '|' || d.delivery FROM fleet_proposals p "
                + "JOIN fleet_decisions d USING (host, bottle, id) WHERE host = 'b'")
        #expect(stored == "\(b.justification)|false|awaiting-host", "b's rows as b's relay and the operator left them")
        #expect(try fleet.database.psql("SELECT count(*) FROM fleet_bottles WHERE host = 'b'") == "1")
    }

    @Test("a host name is held by the role that registered it: another relay is refused, the owner reassigns it")
    func hostNamesAreHeld() async throws {
        let fleet = try await Self.fleet()
        let a = fleet.a.host
        let error = try await fleet.asRole("relay_b") { store in
            await #expect(throws: FleetStoreError.self) { try await store.registerHost(a, version: "test") }
        }
        guard case .hostNameHeld(let message) = error else {
            Issue.record("expected hostNameHeld, got \(String(describing: error))")
            return
        }
        #expect(message.contains("host name a is held by the database role \"relay_a\""), "\(message)")
        #expect(message.contains("this relay connects as \"relay_b\""), "\(message)")
        #expect(message.contains("--host-name NAME"), "\(message)")
        let reassign = "UPDATE fleet_hosts SET relay_role = 'relay_b' WHERE host = 'a';"
        #expect(message.contains(reassign), "\(message)")
        #expect(try fleet.database.psql("SELECT relay_role FROM fleet_hosts WHERE host = 'a'") == "relay_a")

        // Around the store: the policies keep the row relay a's.
        #expect(throws: PostgresServerError.self, "the existing row fails relay b's UPDATE policy") {
            try fleet.sql(
                as: "relay_b",
                """
                INSERT INTO fleet_hosts AS h (host, relay_version) VALUES ('a', 'forged')
                ON CONFLICT (host) DO UPDATE SET relay_version = 'forged', last_seen = now()
                """)
        }
        #expect(try fleet.sql(as: "relay_b", "UPDATE fleet_hosts SET last_seen = now() WHERE host = 'a' RETURNING host") == "")
        #expect(throws: PostgresServerError.self) {
            try fleet.sql(as: "relay_b", "UPDATE fleet_hosts SET relay_role = 'relay_b' WHERE host = 'b'")
        }
        #expect(throws: PostgresServerError.self) {
            try fleet.sql(as: "relay_b", "INSERT INTO fleet_hosts (host, relay_role) VALUES ('c', 'relay_a')")
        }
        #expect(try fleet.database.psql("SELECT relay_role || ' ' || relay_version FROM fleet_hosts WHERE host = 'a'") == "relay_a test")
        await #expect(throws: FleetStoreError.self) {
            try await fleet.asRole("relay_b") { store in
                try await store.mirror(FleetSnapshot(host: a, bottles: [fleet.a.bottle], proposals: []))
            }
        }
        #expect(try fleet.database.psql("SELECT archived FROM fleet_proposals WHERE host = 'a'") == "f")

        // The schema's owner runs the statement the message gave: now b's role holds a, and a's is refused.
        try fleet.database.psql(reassign)
        try await fleet.asRole("relay_b") { store in try await store.registerHost(a, version: "test") }
        try await fleet.asRole("relay_a") { store in
            await #expect(throws: FleetStoreError.self) { try await store.registerHost(a, version: "test") }
            let visible = try await store.proposals(host: a)
            #expect(visible.isEmpty, "a's rows now follow the role holding the name")
        }
    }

    @Test("an operator role reads every host and claims, but cannot write proposals or decide delivery")
    func operatorsClaimOnly() async throws {
        let fleet = try await Self.fleet()
        let link = try await fleet.database.withStore(migrate: false) { owner in
            try await OperatorStore(client: owner.client, logger: .init(label: "test")).add(try #require(FleetOperatorName("alice")))
        }
        try await fleet.asRole("ops") { store in
            // The fleet page's sign-in, as an operator role: the link is spent once.
            let operators = OperatorStore(client: store.client, logger: .init(label: "test"))
            let signedIn = try await operators.signIn(token: link.token)
            #expect(signedIn?.name.rawValue == "alice")
            let again = try await operators.signIn(token: link.token)
            #expect(again == nil)
            #expect(Set(try await store.proposals().map(\.host)) == [fleet.a.host, fleet.b.host])
            let approvals = try await FleetApprovals(client: store.client, logger: .init(label: "test")).approve(
                host: "a", bottle: "web", id: fleet.a.id.rawValue, operatorName: "alice",
                proposalSHA256: fleet.a.proposalSHA256, fileSHA256: fleet.a.proposalSHA256, notes: "")
            #expect(approvals.map(\.operatorName) == ["alice"])
            guard case .won(let won) = try await store.decide(FleetFixtures.claim(fleet.a, by: "alice")) else {
                Issue.record("the operator's claim did not win")
                return
            }
            #expect(won.delivery == .awaitingHost)
            var rewritten = fleet.b
            rewritten.justification = "rewritten by an operator"
            await #expect(throws: FleetStoreError.self) {
                try await store.mirror(FleetSnapshot(host: fleet.b.host, bottles: [fleet.b.bottle], proposals: [rewritten]))
            }
            await #expect(throws: FleetStoreError.self) { try await store.registerHost(FleetFixtures.host("c"), version: "x") }
            // Adding operators is the schema owner's: one operator may not mint another name.
            await #expect(throws: (any Error).self) {
                try await OperatorStore(client: store.client, logger: .init(label: "test")).add(try #require(FleetOperatorName("mallory")))
            }
        }
        for statement in [
            "UPDATE fleet_proposals SET archived = true WHERE host = 'a'",
            "UPDATE fleet_proposals SET updated_at = now() WHERE host = 'a'",  // the column it may lock by
            "UPDATE fleet_decisions SET delivery = 'delivered' WHERE host = 'a'",
            """
            INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery)
            VALUES ('b', 'api', '\(fleet.b.id.rawValue)', 'approved', 'alice', '\(fleet.b.proposalSHA256)', 'delivered')
            """,
            "INSERT INTO fleet_bottles (host, bottle) VALUES ('a', 'planted')",
            "DELETE FROM fleet_decisions",
        ] {
            #expect(throws: PostgresServerError.self, "\(statement)") { try fleet.sql(as: "ops", statement) }
        }
        #expect(try fleet.database.psql("SELECT archived || ' ' || d.delivery FROM fleet_proposals JOIN fleet_decisions d USING (host, bottle, id)") == "false awaiting-host")
        #expect(try fleet.database.psql("SELECT count(*) FROM fleet_bottles WHERE bottle = 'planted'") == "0")
    }

    @Test("claimed_role is the login role, whatever decided_by names, and stays through delivery")
    func claimedRoleIsTheSessionRole() async throws {
        let fleet = try await Self.fleet()
        let won = try await fleet.asRole("ops") { store in try await store.decide(FleetFixtures.claim(fleet.a, by: "relay_a")) }
        guard case .won(let claim) = won else {
            Issue.record("expected a won claim, got \(won)")
            return
        }
        #expect(claim.decidedBy == "relay_a" && claim.claimedRole == "ops")
        let delivered = try await fleet.asRole("relay_a") { store in
            try await store.recordDelivery(host: fleet.a.host, bottle: fleet.a.bottle, id: fleet.a.id, .delivered(nil))
        }
        #expect(delivered?.delivery == .delivered && delivered?.claimedRole == "ops", "delivery does not change who claimed")
        // Naming the role outright is overwritten with the session's own.
        #expect(
            try fleet.database.psql(
                """
                INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery, claimed_role)
                VALUES ('b', 'api', '\(fleet.b.id.rawValue)', 'rejected', 'ops', '\(fleet.b.proposalSHA256)', 'awaiting-host', 'ops')
                RETURNING claimed_role
                """) == "postgres")
        #expect(try fleet.database.psql("UPDATE fleet_decisions SET claimed_role = 'ops' WHERE host = 'b' RETURNING claimed_role") == "postgres")
        // A host's own decision, mirrored: recorded by its relay's role.
        let local = Decision(id: fleet.b.id, status: .approved, decidedBy: "bob", proposalSHA256: fleet.b.proposalSHA256)
        var decided = fleet.b
        decided.decision = FleetDecisionRow(host: decided.host, bottle: decided.bottle, local: local)
        _ = try await fleet.asRole("relay_b") { store in
            try await store.mirror(FleetSnapshot(host: decided.host, bottles: [decided.bottle], proposals: [decided]))
        }
        #expect(try fleet.database.psql("SELECT decided_by || ' ' || claimed_role || ' ' || delivery FROM fleet_decisions WHERE host = 'b'") == "bob relay_b superseded")
    }

    @Test("control, bidi and zero-width characters in decided_by: refused by the store and by the table")
    func hiddenCharactersInDecidedBy() async throws {
        let fleet = try await Self.fleet()
        try await fleet.asRole("ops") { store in
            for name in ["ali\u{1B}[2Jce", "bob\u{7F}", "carol\u{85}", "dave\u{202E}evil", "erin\u{2066}", "x\u{200B}y", "tab\there"] {
                let error = await #expect(throws: FleetStoreError.self, "\(name.debugDescription)") {
                    try await store.decide(FleetFixtures.claim(fleet.a, by: name))
                }
                #expect(error?.message.contains("control, bidi or zero-width") == true, "\(String(describing: error))")
                #expect(error.map { Escaped.needsEscaping($0.message) } == false, "the refusal shows the name escaped")
            }
        }
        #expect(try fleet.database.psql("SELECT count(*) FROM fleet_decisions") == "0")
        for literal in [#"E'ali\x1bce'"#, #"E'bob\u202Eevil'"#, #"E'carol\u0085'"#, #"E'x\u200By'"#] {
            #expect(throws: PostgresServerError.self, "\(literal)") {
                try fleet.database.psql(
                    """
                    INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery)
                    VALUES ('a', 'web', '\(fleet.a.id.rawValue)', 'approved', \(literal), '\(fleet.a.proposalSHA256)', 'awaiting-host')
                    """)
            }
        }
        // A host's own decision by such a name still mirrors (one name must not stop the host's whole mirror).
        let local = Decision(id: fleet.a.id, status: .rejected, notes: "no", decidedBy: "eve\u{1B}[31m", proposalSHA256: fleet.a.proposalSHA256)
        var decided = fleet.a
        decided.decision = FleetDecisionRow(host: decided.host, bottle: decided.bottle, local: local)
        try await fleet.asRole("relay_a") { store in
            let snapshot = FleetSnapshot(host: decided.host, bottles: [decided.bottle], proposals: [decided])
            let first = try await store.mirror(snapshot)
            let second = try await store.mirror(snapshot)
            #expect(first.decisionsWritten == 1)
            #expect(second.isEmpty, "idempotent")
        }
        #expect(try fleet.database.psql("SELECT decided_by FROM fleet_decisions") == "eve\u{FFFD}[31m")
    }

    @Test("a version-1 database takes migration 1: roles, grants, policies; existing decisions kept, names cleaned")
    func fromVersionOne() async throws {
        let database = try await FleetTestDatabase.start()
        try database.psql(FleetSchema.migrations[0] + ";\nUPDATE fleet_schema SET version = 1;")
        let row = FleetFixtures.proposal(host: "a", bottle: "web")
        try database.psql(
            """
            INSERT INTO fleet_hosts (host) VALUES ('a');
            INSERT INTO fleet_bottles (host, bottle) VALUES ('a', 'web');
            INSERT INTO fleet_proposals (host, bottle, id, tool, proposal, proposal_sha256, proposed_file, justification, created_at)
            VALUES ('a', 'web', '\(row.id.rawValue)', 'pipelock-block', '\\x\(row.proposal.map { String(format: "%02x", $0) }.joined())',
                    '\(row.proposalSHA256)', 'x', 'y', now());
            INSERT INTO fleet_decisions (host, bottle, id, status, decided_by, proposal_sha256, delivery)
            VALUES ('a', 'web', '\(row.id.rawValue)', 'approved', E'old\\x1bname', '\(row.proposalSHA256)', 'delivered');
            """)
        let report = try await database.withStore(migrate: false) { store in try await store.migrator.migrate() }
        #expect(report.from == 1 && report.to == FleetSchema.version, "\(report)")
        #expect(try database.psql("SELECT decided_by || '|' || coalesce(claimed_role, 'unknown') FROM fleet_decisions") == "old\u{FFFD}name|unknown")
        #expect(try database.psql("SELECT count(*) FROM pg_roles WHERE rolname IN ('bottle_supervise_relay', 'bottle_supervise_operator')") == "2")
        #expect(try database.psql("SELECT bool_and(relrowsecurity) FROM pg_class WHERE relname IN ('fleet_hosts', 'fleet_bottles', 'fleet_proposals', 'fleet_decisions')") == "t")
    }

    @Test("a role that may create tables but not roles is told the exact CREATE ROLE statements; nothing is half-made")
    func missingGroupRoles() async throws {
        let database = try await FleetTestDatabase.start()
        try database.server.createRole("fleet_owner", password: Self.password)
        try database.psql("GRANT CREATE ON SCHEMA public TO fleet_owner")
        let error = try await database.withStore(role: "fleet_owner", password: Self.password, migrate: false) { store in
            await #expect(throws: FleetStoreError.self) { try await store.migrator.migrate() }
        }
        guard case .needsMigration(let message) = error else {
            Issue.record("expected needsMigration, got \(String(describing: error))")
            return
        }
        let statements = "CREATE ROLE bottle_supervise_relay NOLOGIN; CREATE ROLE bottle_supervise_operator NOLOGIN;"
        #expect(message.contains("role fleet_owner may not create them"), "\(message)")
        #expect(message.contains("run as a superuser: \(statements)"), "\(message)")
        #expect(message.contains("bottle-supervise relay --migrate-only --database URL"), "\(message)")
        #expect(try database.psql("SELECT to_regclass('fleet_schema') IS NULL") == "t", "nothing half-made")

        try database.server.psql(statements)
        let report = try await database.withStore(role: "fleet_owner", password: Self.password, migrate: false) { store in
            try await store.migrator.migrate()
        }
        #expect(report.from == 0 && report.to == FleetSchema.version, "\(report)")
        #expect(try database.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'fleet_decisions'") == "fleet_owner")
    }
}
