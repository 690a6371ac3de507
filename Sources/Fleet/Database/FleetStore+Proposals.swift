import Foundation
import PostgresNIO
import Queue

extension FleetStore {
    /// Proposals with their decisions, oldest first: of one host or all
    /// (`host` nil), of one bottle or all; only those still pending unless
    /// `includeDecided` (then archived and decided ones too).
    public func proposals(host: FleetHostName? = nil, bottle: BottleSlug? = nil, includeDecided: Bool = false)
        async throws(FleetStoreError) -> [FleetProposalRow]
    {
        let hostText = host?.rawValue
        let bottleText = bottle?.rawValue
        return try await run("listing the fleet's proposals") {
            try await collect(
                client.query(
                    """
                    SELECT \(unescaped: Self.proposalColumns), \(unescaped: Self.decisionColumns)
                    FROM fleet_proposals p
                    LEFT JOIN fleet_decisions d ON d.host = p.host AND d.bottle = p.bottle AND d.id = p.id
                    WHERE (\(hostText)::text IS NULL OR p.host = \(hostText))
                      AND (\(bottleText)::text IS NULL OR p.bottle = \(bottleText))
                      AND (\(includeDecided) OR (NOT p.archived AND d.host IS NULL))
                    ORDER BY p.created_at, p.host, p.bottle, p.id
                    """, logger: logger))
        }
    }

    /// Every host's proposal with `id` (ids are unique per bottle; several
    /// hosts may in principle hold the same one), decided or not.
    public func proposals(id: ProposalID) async throws(FleetStoreError) -> [FleetProposalRow] {
        try await run("reading proposal \(id)") {
            try await collect(
                client.query(
                    """
                    SELECT \(unescaped: Self.proposalColumns), \(unescaped: Self.decisionColumns)
                    FROM fleet_proposals p
                    LEFT JOIN fleet_decisions d ON d.host = p.host AND d.bottle = p.bottle AND d.id = p.id
                    WHERE p.id = \(id.rawValue)
                    ORDER BY p.host, p.bottle
                    """, logger: logger))
        }
    }

    private func collect(_ rows: PostgresRowSequence) async throws -> [FleetProposalRow] {
        var proposals: [FleetProposalRow] = []
        for try await row in rows {
            var reader = FleetRowReader(row)
            proposals.append(try Self.readProposal(&reader))
        }
        return proposals
    }
}
