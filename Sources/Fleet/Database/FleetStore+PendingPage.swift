import Foundation
import PostgresNIO
import Queue

/// What a list page of the fleet reads: at most one page of the pending
/// proposals, the count of all that match, and the names for its filters.
///
/// Why not ``FleetStore/proposals(host:bottle:includeDecided:)``: a fleet of
/// 100 hosts × 100 bottles × 10 pending is 100,000 rows with their files; a
/// page shows the oldest few hundred, so only those are read (the pending
/// index on `created_at` serves the order and the limit).
public struct FleetPendingPage: Sendable, Equatable {
    /// The oldest pending proposals that match, at most the limit asked for.
    public var rows: [FleetProposalRow]
    /// How many pending proposals match in all.
    public var total: Int
}

extension FleetStore {
    /// The oldest `limit` pending proposals of `host` (all when nil) and
    /// `bottle` (all when nil), with how many match in all.
    public func pendingPage(host: FleetHostName? = nil, bottle: BottleSlug? = nil, limit: Int) async throws(FleetStoreError)
        -> FleetPendingPage
    {
        let hostText = host?.rawValue
        let bottleText = bottle?.rawValue
        return try await run("listing a page of the fleet's pending proposals") {
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.proposalColumns), \(unescaped: Self.decisionColumns)
                FROM fleet_proposals p
                LEFT JOIN fleet_decisions d ON d.host = p.host AND d.bottle = p.bottle AND d.id = p.id
                WHERE NOT p.archived AND d.host IS NULL
                  AND (\(hostText)::text IS NULL OR p.host = \(hostText))
                  AND (\(bottleText)::text IS NULL OR p.bottle = \(bottleText))
                ORDER BY p.created_at, p.host, p.bottle, p.id
                LIMIT \(max(0, limit))
                """, logger: logger)
            var page = FleetPendingPage(rows: [], total: 0)
            for try await row in rows {
                var reader = FleetRowReader(row)
                page.rows.append(try Self.readProposal(&reader))
            }
            let counted = try await client.query(
                """
                SELECT count(*) FROM fleet_proposals p
                WHERE NOT p.archived
                  AND NOT EXISTS (SELECT 1 FROM fleet_decisions d WHERE d.host = p.host AND d.bottle = p.bottle AND d.id = p.id)
                  AND (\(hostText)::text IS NULL OR p.host = \(hostText))
                  AND (\(bottleText)::text IS NULL OR p.bottle = \(bottleText))
                """, logger: logger)
            for try await total in counted.decode(Int.self) { page.total = total }
            return page
        }
    }

    /// The bottles that have a pending proposal on some host, by name: the list's bottle filter.
    public func pendingBottleNames() async throws(FleetStoreError) -> [String] {
        try await run("listing the bottles with pending proposals") {
            let rows = try await client.query(
                "SELECT DISTINCT bottle FROM fleet_proposals WHERE NOT archived ORDER BY bottle", logger: logger)
            var names: [String] = []
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }
}
