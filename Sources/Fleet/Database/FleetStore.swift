import Foundation
import Logging
import PostgresNIO
import Queue

/// The fleet's tables, read and written: every SQL statement of the fleet is
/// in this file or the `FleetStore+*.swift` files beside it.
///
/// Values only ever travel as bound parameters (`PostgresQuery` string
/// interpolation sends `\(value)` as `$n`); the only text spliced into a
/// statement is this file's own column lists. A host's relay writes its own
/// host's rows (``mirror(_:)``, ``recordDelivery(host:bottle:id:_:)``,
/// ``heartbeat(_:)``); operators anywhere add claims (``decide(_:)``), and the
/// primary key of `fleet_decisions` makes the first claim the only one.
public struct FleetStore: Sendable {
    /// The client (its `run()` is the caller's, or ``withStore(settings:logger:_:)``'s).
    public let client: PostgresClient
    let logger: Logger

    /// A store on `client`.
    public init(client: PostgresClient, logger: Logger = Logger(label: "bottle-supervise.fleet.store")) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` with a store connected per `settings`, the client running
    /// for exactly that long. One connection is made and checked first
    /// (``checkConnection(settings:logger:)``), so a wrong password or an
    /// unreachable server fails at once with the server's words instead of
    /// the pool retrying in the background.
    public static func withStore<Result: Sendable>(
        settings: FleetDatabaseSettings, logger: Logger = Logger(label: "bottle-supervise.fleet.store"),
        isolation: isolated (any Actor)? = #isolation, _ body: (FleetStore) async throws -> Result
    ) async throws -> Result {
        try await checkConnection(settings: settings, logger: logger)
        // The pool's own messages (a connection retried, a lease before run() has begun) are not
        // the command's: its errors come back from the statements, so only errors are logged here.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: background)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(FleetStore(client: client, logger: logger))
        }
    }

    /// Connects once, runs `SELECT 1` and disconnects.
    /// - Throws: ``FleetStoreError`` with the server's message (a wrong
    ///   password, no such database) or why it could not be reached.
    public static func checkConnection(settings: FleetDatabaseSettings, logger: Logger) async throws(FleetStoreError) {
        let configuration: PostgresConnection.Configuration
        do { configuration = try settings.connectionConfiguration() } catch { throw .invalid(error.message) }
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: configuration, id: 0, logger: logger)
            do {
                try await connection.query("SELECT 1", logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw FleetDatabaseFailure.describe(error, doing: "connecting to \(settings.redactedURL)")
        }
    }

    /// The migrator for this store's database.
    public var migrator: FleetMigrator { FleetMigrator(client: client, logger: logger) }

    // MARK: Hosts

    /// Registers (or re-registers) `host`'s relay: its version, now as last seen.
    ///
    /// A host name belongs to the database role whose relay registered it
    /// first (`fleet_hosts.relay_role`): a relay connecting as another role
    /// is refused with ``FleetStoreError/hostNameHeld(_:)`` instead of taking
    /// the name over (two machines with the same default name would archive
    /// each other's proposals in turn). The upsert changes only a row whose
    /// `relay_role` is `current_user`; for relay roles the row-level policies
    /// of ``FleetSchema/rowSecurity`` enforce the same in the database. Only
    /// the schema's owner reassigns a name (``reassignCommand(host:role:)``).
    public func registerHost(_ host: FleetHostName, version: String) async throws(FleetStoreError) {
        let name = host.rawValue
        let logger = self.logger
        let held = try await transaction("registering host \(host)") { connection -> (holder: String, role: String)? in
            let registered = try await connection.query(
                """
                INSERT INTO fleet_hosts AS h (host, relay_version, relay_role, last_seen)
                VALUES (\(name), \(version), current_user, now())
                ON CONFLICT (host) DO UPDATE
                SET relay_version = EXCLUDED.relay_version, last_seen = now()
                WHERE h.relay_role = current_user
                RETURNING true
                """, logger: logger)
            for try await _ in registered { return nil }
            let holders = try await connection.query(
                "SELECT relay_role, current_user::text FROM fleet_hosts WHERE host = \(name)", logger: logger)
            for try await (holder, role) in holders.decode((String, String).self) { return (holder, role) }
            throw FleetStoreError.refused("host \(host) was neither registered nor found")
        }
        if let held {
            throw .hostNameHeld(
                "host name \(host) is held by the database role \(FleetHostName.quoted(held.holder)), whose relay "
                    + "registered it; this relay connects as \(FleetHostName.quoted(held.role)). If this is another "
                    + "machine, give it its own name with --host-name NAME (or [fleet] host_name); if it is the same "
                    + "host now using another role, the schema's owner reassigns the name: "
                    + Self.reassignCommand(host: host, role: held.role))
        }
    }

    /// The statement the schema's owner runs to hand `host`'s name to `role`'s relay.
    public static func reassignCommand(host: FleetHostName, role: String) -> String {
        let literal = "'" + role.replacingOccurrences(of: "'", with: "''") + "'"
        return "UPDATE fleet_hosts SET relay_role = \(Escaped(literal)) WHERE host = '\(host.rawValue)';"
    }

    /// Notes that `host`'s relay is alive.
    public func heartbeat(_ host: FleetHostName) async throws(FleetStoreError) {
        try await run("recording a heartbeat of \(host)") {
            try await client.query("UPDATE fleet_hosts SET last_seen = now() WHERE host = \(host.rawValue)", logger: logger)
        }
    }

    /// Records the head of `host`'s audit chain (the last record's hash) and its length.
    public func recordAuditHead(host: FleetHostName, head: String, records: Int) async throws(FleetStoreError) {
        try await run("recording the audit head of \(host)") {
            try await client.query(
                """
                UPDATE fleet_hosts SET audit_head = \(head), audit_records = \(Int64(records)), last_seen = now()
                WHERE host = \(host.rawValue)
                """, logger: logger)
        }
    }

    /// Every registered host, by name.
    public func hosts() async throws(FleetStoreError) -> [FleetHostRow] {
        try await run("listing the fleet's hosts") {
            var hosts: [FleetHostRow] = []
            let rows = try await client.query(
                """
                SELECT host, relay_role, relay_version, last_seen, audit_head, audit_records
                FROM fleet_hosts ORDER BY host
                """, logger: logger)
            for try await row in rows {
                var reader = FleetRowReader(row)
                hosts.append(
                    FleetHostRow(
                        host: try reader.hostName(), relayRole: try reader.next(), relayVersion: try reader.next(),
                        lastSeen: try reader.date(), auditHead: try reader.next(),
                        auditRecords: Int(try reader.next(Int64.self))))
            }
            return hosts
        }
    }

    // MARK: Running statements

    /// Runs `body`, turning any failure into a ``FleetStoreError`` about `doing`.
    @discardableResult
    func run<Result>(_ doing: String, _ body: () async throws -> Result) async throws(FleetStoreError) -> Result {
        do {
            return try await body()
        } catch {
            throw FleetDatabaseFailure.describe(error, doing: doing)
        }
    }

    /// Runs `body` in one transaction.
    func transaction<Result: Sendable>(_ doing: String, _ body: (PostgresConnection) async throws -> Result)
        async throws(FleetStoreError) -> Result
    {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw FleetDatabaseFailure.describe(error, doing: doing)
        }
    }

    // MARK: Columns

    /// `fleet_proposals p`'s columns in the order ``readProposal(_:)`` reads them.
    static let proposalColumns = """
        p.host, p.bottle, p.id, p.tool, p.proposal, p.proposal_sha256, p.proposed_file, p.justification, \
        p.created_at, p.expires_at, p.host_first_seen, p.risk_hints::text, p.current_file, p.current_sha256, \
        p.problem, p.waiting, p.archived, p.required_approvals, p.approvals_rule, p.critical_approvals
        """
    static let proposalColumnCount = 20

    /// `fleet_decisions d`'s columns in the order ``readDecision(_:)`` reads them.
    static let decisionColumns = """
        d.host, d.bottle, d.id, d.status, d.notes, d.final_file, d.answer, d.decided_by, d.decided_at, \
        d.proposal_sha256, d.delivery, d.superseded_claim, d.reason, d.apply_state, d.apply_summary, d.claimed_role
        """
    static let decisionColumnCount = 16

    static func readDecision(_ reader: inout FleetRowReader) throws -> FleetDecisionRow? {
        if reader.nextIsNull {
            reader.skip(decisionColumnCount)
            return nil
        }
        var row = FleetDecisionRow(
            host: try reader.hostName(), bottle: try reader.bottle(), id: try reader.proposalID(),
            status: try reader.value(DecisionStatus.self, column: "status"), notes: try reader.next(),
            finalFile: try reader.next(), answer: try reader.next(), decidedBy: try reader.next(),
            decidedAt: try reader.date(), proposalSHA256: try reader.next(),
            delivery: try reader.value(FleetDecisionRow.Delivery.self, column: "delivery"),
            supersededClaim: try reader.next(), reason: try reader.next(),
            applyState: try reader.optionalValue(ApplyOutcome.State.self, column: "apply_state"),
            applySummary: try reader.next())
        row.claimedRole = try reader.next()
        return row
    }

    static func readProposal(_ reader: inout FleetRowReader) throws -> FleetProposalRow {
        let host = try reader.hostName()
        let bottle = try reader.bottle()
        let id = try reader.proposalID()
        let tool = try reader.value(Tool.self, column: "tool")
        let proposal: Data = try reader.next()
        let digest: String = try reader.next()
        let proposedFile: String = try reader.next()
        let justification: String = try reader.next()
        let createdAt = try reader.date()
        let expiresAt = try reader.optionalDate()
        let hostFirstSeen = try reader.date()
        let hints = try RiskHintsJSON.decode(try reader.next(String.self))
        let currentFile: String? = try reader.next()
        let currentSHA256: String? = try reader.next()
        let problem: String? = try reader.next()
        let waiting: Bool = try reader.next()
        let archived: Bool = try reader.next()
        let approvals = HostApprovals(
            required: Int(try reader.next(Int32.self)), rule: try reader.next(), critical: Int(try reader.next(Int32.self)))
        var row = FleetProposalRow(
            host: host, bottle: bottle, id: id, tool: tool, proposal: proposal, proposalSHA256: digest,
            proposedFile: proposedFile, justification: justification, createdAt: createdAt, expiresAt: expiresAt,
            hostFirstSeen: hostFirstSeen, riskHints: hints, currentFile: currentFile, currentSHA256: currentSHA256,
            problem: problem, waiting: waiting, archived: archived, decision: try readDecision(&reader))
        row.hostApprovals = approvals
        return row
    }
}
