import Foundation
import PostgresNIO
import Queue

/// What a list of the fleet reads: one page of its proposals, where the page
/// starts, and (for the pending ones) how many match in all.
///
/// Why a page and not ``FleetStore/proposals(host:bottle:includeDecided:)``:
/// a fleet of 100 hosts × 100 bottles × 10 pending is 100,000 rows with
/// their files; a list shows a few hundred, so only those are read. The
/// page's keys come from an index-only scan of
/// ``FleetSchema/pendingOrderMigration``'s index (also past a deep offset),
/// and only the page's rows are then read whole.
public struct FleetPendingPage: Sendable, Equatable {
    /// The proposals of the page, oldest first, at most the limit asked for.
    public var rows: [FleetProposalRow]
    /// How many matching proposals come before the page.
    public var offset: Int
    /// How many match in all: counted for pending proposals (an index-only
    /// count), `nil` with decided and archived ones (that would read every
    /// row the fleet ever had).
    public var total: Int?

    /// Whether more match after this page: known from the count, else
    /// assumed when the page is full.
    public func hasMore(limit: Int) -> Bool {
        total.map { offset + rows.count < $0 } ?? (rows.count == limit && limit > 0)
    }

    /// Which of the matching proposals the page holds, for a person:
    /// `1–200 of 100,000`, `201–400` (not counted) or `none`.
    public var shown: String {
        let range = rows.isEmpty ? "none" : "\(Self.grouped(offset + 1))–\(Self.grouped(offset + rows.count))"
        return range + (total.map { " of \(Self.grouped($0))" } ?? "")
    }

    /// `100000` as `100,000`.
    public static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var out = number < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}

extension FleetStore {
    /// The most rows one page may ask for.
    public static let pageLimit = 10_000

    /// The oldest pending proposals of `host` (all when nil) and `bottle`
    /// (all when nil) after skipping `offset`, at most `limit`, with how many
    /// match in all; with `includeDecided`, decided and archived ones too
    /// (not counted).
    public func pendingPage(
        host: FleetHostName? = nil, bottle: BottleSlug? = nil, includeDecided: Bool = false, limit: Int, offset: Int = 0
    ) async throws(FleetStoreError) -> FleetPendingPage {
        let hostText = host?.rawValue
        let bottleText = bottle?.rawValue
        let limit = min(max(0, limit), Self.pageLimit)
        let offset = max(0, offset)
        // Pending: not archived, and no decision row (a claim made in the database counts as decided).
        let pending = includeDecided ? "true" : Self.pendingCondition
        return try await run("listing a page of the fleet's proposals") {
            // The count on a connection of its own, while the page is read: the two take about as long.
            async let counted = includeDecided ? nil : countPending(host: hostText, bottle: bottleText)
            var page = FleetPendingPage(rows: [], offset: offset, total: nil)
            if limit > 0 {
                let rows = try await client.query(
                    """
                    WITH page AS (
                        SELECT p.host, p.bottle, p.id FROM fleet_proposals p
                        WHERE \(unescaped: pending)
                          AND (\(hostText)::text IS NULL OR p.host = \(hostText))
                          AND (\(bottleText)::text IS NULL OR p.bottle = \(bottleText))
                        ORDER BY p.created_at, p.host, p.bottle, p.id
                        LIMIT \(limit) OFFSET \(offset)
                    )
                    SELECT \(unescaped: Self.proposalColumns), \(unescaped: Self.decisionColumns)
                    FROM page k
                    JOIN fleet_proposals p ON p.host = k.host AND p.bottle = k.bottle AND p.id = k.id
                    LEFT JOIN fleet_decisions d ON d.host = p.host AND d.bottle = p.bottle AND d.id = p.id
                    ORDER BY p.created_at, p.host, p.bottle, p.id
                    """, logger: logger)
                for try await row in rows {
                    var reader = FleetRowReader(row)
                    page.rows.append(try Self.readProposal(&reader))
                }
            }
            page.total = try await counted
            return page
        }
    }

    /// How many pending proposals of `host` and `bottle` (all when nil) there are: an index-only
    /// scan of ``FleetSchema/pendingOrderMigration``'s index (its key is what the anti-join needs).
    private func countPending(host: String?, bottle: String?) async throws -> Int? {
        let counted = try await client.query(
            """
            SELECT count(*) FROM fleet_proposals p
            WHERE \(unescaped: Self.pendingCondition)
              AND (\(host)::text IS NULL OR p.host = \(host))
              AND (\(bottle)::text IS NULL OR p.bottle = \(bottle))
            """, logger: logger)
        var total: Int?
        for try await value in counted.decode(Int.self) { total = value }
        return total
    }

    /// `fleet_proposals p` is pending: in its host's live queue, with no decision anywhere.
    static let pendingCondition = """
        NOT p.archived
        AND NOT EXISTS (SELECT 1 FROM fleet_decisions d WHERE d.host = p.host AND d.bottle = p.bottle AND d.id = p.id)
        """

    /// Every bottle name some host's relay has mirrored, by name: the list's
    /// bottle filter. Read from `fleet_bottles` (one row per host and bottle),
    /// not from the proposals: their distinct names cost a scan of every
    /// pending row (240 ms at 100,000 in a debug build).
    public func bottleNames() async throws(FleetStoreError) -> [String] {
        try await run("listing the fleet's bottles") {
            let rows = try await client.query(
                "SELECT DISTINCT bottle FROM fleet_bottles ORDER BY bottle", logger: logger)
            var names: [String] = []
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }
}
