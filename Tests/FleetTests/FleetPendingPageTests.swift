import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

/// The list pages of the fleet (`list --database`, the fleet page): a page of
/// the oldest pending proposals, the ones after it by offset, filtered by host
/// and bottle, with the count of all that match; decided and archived ones
/// only when asked for, and then not counted.
@Suite("Fleet list pages against PostgreSQL", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetPendingPageTests {
    @Test("pages of the oldest pending proposals, filtered and counted; decided and archived ones left out")
    func pages() async throws {
        let database = try await FleetTestDatabase.start()
        try await database.withStore { store in
            let (mirrored, decided) = try await Self.seed(store)
            let pending = Self.oldestFirst(mirrored.filter { !$0.archived && Self.key($0) != Self.key(decided) })
            #expect(pending.count == 5)

            let first = try await store.pendingPage(limit: 2)
            #expect(first.rows.map(Self.key) == pending.prefix(2).map(Self.key))
            #expect(first.offset == 0 && first.total == 5 && first.hasMore(limit: 2))
            #expect(first.shown == "1–2 of 5")
            let last = try await store.pendingPage(limit: 2, offset: 4)
            #expect(last.rows.map(Self.key) == pending.suffix(1).map(Self.key))
            #expect(!last.hasMore(limit: 2) && last.shown == "5–5 of 5")
            let beyond = try await store.pendingPage(limit: 2, offset: 9)
            #expect(beyond.rows.isEmpty && beyond.total == 5 && beyond.shown == "none of 5")

            let hostA = try await store.pendingPage(host: FleetFixtures.host("a"), limit: 10)
            #expect(hostA.rows.map(Self.key) == pending.filter { $0.host.rawValue == "a" }.map(Self.key) && hostA.total == 3)
            let web = try await store.pendingPage(bottle: FleetFixtures.bottle("web"), limit: 10)
            #expect(web.rows.map(Self.key) == pending.filter { $0.bottle.rawValue == "web" }.map(Self.key) && web.total == 3)
            let bWeb = try await store.pendingPage(host: FleetFixtures.host("b"), bottle: FleetFixtures.bottle("web"), limit: 10)
            #expect(bWeb.rows.count == 1 && bWeb.total == 1, "b's decided web proposal is not pending")

            let everything = try await store.pendingPage(includeDecided: true, limit: 6)
            #expect(everything.rows.count == 6 && everything.total == nil && everything.hasMore(limit: 6))
            let rest = try await store.pendingPage(includeDecided: true, limit: 6, offset: 6)
            #expect(rest.rows.count == 2 && !rest.hasMore(limit: 6))
            let both = everything.rows + rest.rows
            #expect(both.map(Self.key) == Self.oldestFirst(mirrored).map(Self.key))
            #expect(both.contains { Self.key($0) == Self.key(decided) && $0.decision?.decidedBy == "alice" })

            #expect(try await store.bottleNames() == ["db", "web"])
            #expect(FleetPendingPage.grouped(100_000) == "100,000" && FleetPendingPage.grouped(999) == "999")
        }
    }

    /// Hosts a and b, each with three pending proposals (bottles web, db, web) and an archived one;
    /// b's first web proposal claimed by alice. Returns every row mirrored, and the claimed one.
    static func seed(_ store: FleetStore) async throws -> ([FleetProposalRow], FleetProposalRow) {
        var mirrored: [FleetProposalRow] = []
        for host in ["a", "b"] {
            let name = FleetFixtures.host(host)
            try await store.registerHost(name, version: "test")
            var rows: [FleetProposalRow] = []
            for (index, bottle) in ["web", "db", "web"].enumerated() {
                rows.append(FleetFixtures.proposal(host: host, bottle: bottle, file: "\(host)-\(index).example\n"))
            }
            rows.append(FleetFixtures.proposal(host: host, bottle: "db", file: "gone.example\n", archived: true))
            try await store.mirror(FleetSnapshot(host: name, bottles: rows.map(\.bottle), proposals: rows))
            mirrored += rows
        }
        let decided = try #require(mirrored.first { $0.host.rawValue == "b" && $0.bottle.rawValue == "web" })
        let claimed = try await store.decide(FleetFixtures.claim(decided, by: "alice"))
        #expect(claimed.isWon)
        return (mirrored, decided)
    }

    static func oldestFirst(_ rows: [FleetProposalRow]) -> [FleetProposalRow] {
        rows.sorted {
            ($0.createdAt, $0.host.rawValue, $0.bottle.rawValue, $0.id.rawValue)
                < ($1.createdAt, $1.host.rawValue, $1.bottle.rawValue, $1.id.rawValue)
        }
    }

    static func key(_ row: FleetProposalRow) -> String { "\(row.host)/\(row.bottle)/\(row.id)" }
}

extension FleetDecideResult {
    var isWon: Bool {
        if case .won = self { return true }
        return false
    }
}
