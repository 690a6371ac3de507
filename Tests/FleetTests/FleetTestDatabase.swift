import Fleet
import Foundation
import Logging
import PostgresTestSupport
import Queue
import Risk

/// A fleet database for one test: a fresh PostgreSQL (PostgresTestSupport),
/// a database named `fleet`, migrated, and stores connected to it as the
/// superuser over TCP with a password (the product's path).
struct FleetTestDatabase {
    let server: PostgresServer

    /// Whether the tests can run here (CI always runs them: a missing server fails there).
    static var isAvailable: Bool { PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil }

    /// Starts a server with an empty `fleet` database.
    static func start() async throws -> FleetTestDatabase {
        let server = try await PostgresServer.start()
        try server.createDatabase("fleet")
        return FleetTestDatabase(server: server)
    }

    /// Settings for `role` (password given, as `--database-password-file` would).
    func settings(role: String = "postgres", password: String = PostgresServer.superuserPassword) throws
        -> FleetDatabaseSettings
    {
        var settings = try FleetDatabaseSettings.parse(server.url(database: "fleet", role: role), source: "the test")
        settings.password = password
        return settings
    }

    /// Runs `body` with a store on the database (migrated first unless `migrate` is false).
    func withStore<Result: Sendable>(
        role: String = "postgres", password: String = PostgresServer.superuserPassword, migrate: Bool = true,
        _ body: (FleetStore) async throws -> Result
    ) async throws -> Result {
        try await FleetStore.withStore(settings: try settings(role: role, password: password)) { store in
            if migrate { try await store.migrator.migrate() }
            return try await body(store)
        }
    }

    /// psql as the superuser on the `fleet` database.
    @discardableResult
    func psql(_ sql: String) throws -> String { try server.psql(sql, database: "fleet") }
}

/// Proposals and claims for the tests.
enum FleetFixtures {
    static func host(_ name: String) -> FleetHostName { try! FleetHostName(name) }
    static func bottle(_ name: String) -> BottleSlug { try! BottleSlug(name) }

    /// A proposal row as a relay would mirror it (its bytes: the proposal as JSON).
    static func proposal(
        host: String = "a", bottle: String = "web-1", file: String = "example.com\n", id: ProposalID = .generate(),
        hints: [RiskHint] = [], decision: Decision? = nil, archived: Bool = false
    ) -> FleetProposalRow {
        let proposal = Proposal(
            id: id, bottle: Self.bottle(bottle), tool: .pipelockBlock, proposedFile: file,
            justification: "needs \(file)", currentFileSHA256: nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try! encoder.encode(proposal)
        return FleetProposalRow(
            host: Self.host(host), bottle: proposal.bottle, id: id, tool: proposal.tool, proposal: bytes,
            proposedFile: file, justification: proposal.justification, createdAt: proposal.createdAt,
            riskHints: hints, currentFile: "old.example\n", archived: archived,
            decision: decision.map { FleetDecisionRow(host: Self.host(host), bottle: proposal.bottle, local: $0) })
    }

    /// An operator's claim on `row`, bound to its digest.
    static func claim(
        _ row: FleetProposalRow, by operatorName: String, status: DecisionStatus = .approved, digest: String? = nil
    ) -> FleetDecisionRow {
        FleetDecisionRow(
            host: row.host, bottle: row.bottle, id: row.id, status: status,
            notes: status == .rejected ? "no" : "", decidedBy: operatorName,
            proposalSHA256: digest ?? row.proposalSHA256)
    }
}
