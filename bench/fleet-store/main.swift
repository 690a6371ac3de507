// Fleet store at scale (issue 19's "Scale"): a real PostgreSQL from
// PostgresTestSupport, H simulated hosts × B bottles × P pending proposals
// mirrored through FleetStore, then timed:
//   mirror        one host's whole snapshot written (B × P rows), and replayed unchanged;
//   list          every pending proposal of the fleet (FleetStore.proposals()), and one host's;
//   decide        one claim (INSERT … ON CONFLICT DO NOTHING RETURNING), median and p99;
//   notify        a claim committed → its NOTIFY read by a listener on another connection.
//
// Usage: fleet-store [--hosts H] [--bottles B] [--pending P] [--claims N]
import Fleet
import Foundation
import PostgresTestSupport
import Queue

@main
struct FleetStoreBench {
    static func main() async throws {
        var hosts = 100
        var bottles = 100
        var pending = 10
        var claims = 200
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            let value = Int(arguments.next() ?? "")
            switch (argument, value) {
            case ("--hosts", let value?): hosts = value
            case ("--bottles", let value?): bottles = value
            case ("--pending", let value?): pending = value
            case ("--claims", let value?): claims = value
            default:
                FileHandle.standardError.write(
                    Data("usage: fleet-store [--hosts H] [--bottles B] [--pending P] [--claims N]\n".utf8))
                exit(2)
            }
        }
        let clock = ContinuousClock()
        var started = clock.now
        let server = try await PostgresServer.start()
        try server.createDatabase("fleet")
        print("server: started in \(ms(clock.now - started)) (template copy + postgres start)")
        var settings = try FleetDatabaseSettings.parse(server.url(database: "fleet"), source: "bench")
        settings.password = PostgresServer.superuserPassword

        try await FleetStore.withStore(settings: settings) { store in
            try await store.migrator.migrate()
            var firstMirror: [Duration] = []
            var replays: [Duration] = []
            var sample: [FleetProposalRow] = []
            for h in 0..<hosts {
                let host = try FleetHostName("host-\(h)")
                try await store.registerHost(host, version: "bench")
                var rows: [FleetProposalRow] = []
                let slugs = try (0..<bottles).map { try BottleSlug("bottle-\($0)") }
                for slug in slugs {
                    for p in 0..<pending {
                        let file = "host-\(h).example\nbottle-\(slug).example\nentry-\(p).example\n"
                        let proposal = Proposal(
                            bottle: slug, tool: .pipelockBlock, proposedFile: file,
                            justification: "the agent needs entry-\(p)", currentFileSHA256: nil)
                        let bytes = try JSONEncoder().encode(proposal)
                        rows.append(
                            FleetProposalRow(
                                host: host, bottle: slug, id: proposal.id, tool: proposal.tool, proposal: bytes,
                                proposedFile: file, justification: proposal.justification,
                                createdAt: proposal.createdAt, currentFile: "old.example\n"))
                    }
                }
                let snapshot = FleetSnapshot(host: host, bottles: slugs, proposals: rows)
                started = clock.now
                try await store.mirror(snapshot)
                firstMirror.append(clock.now - started)
                started = clock.now
                let replay = try await store.mirror(snapshot)
                replays.append(clock.now - started)
                precondition(replay.isEmpty, "a replay wrote rows")
                if sample.count < claims { sample.append(contentsOf: rows.prefix(claims - sample.count)) }
            }
            print("mirror: \(bottles * pending) rows per host: first \(summary(firstMirror)); replay unchanged \(summary(replays))")

            var listAll: [Duration] = []
            var listHost: [Duration] = []
            var count = 0
            for _ in 0..<5 {
                started = clock.now
                count = try await store.proposals().count
                listAll.append(clock.now - started)
                started = clock.now
                _ = try await store.proposals(host: FleetHostName("host-0"))
                listHost.append(clock.now - started)
            }
            print("list: all \(count) pending \(summary(listAll)); one host's \(summary(listHost))")

            let changes = try await store.changes(channel: FleetSchema.changeChannel)
            var iterator = changes.makeAsyncIterator()
            var decideTimes: [Duration] = []
            var notifyTimes: [Duration] = []
            for row in sample {
                let claim = FleetDecisionRow(
                    host: row.host, bottle: row.bottle, id: row.id, status: .approved, decidedBy: "bench",
                    proposalSHA256: row.proposalSHA256)
                started = clock.now
                guard case .won = try await store.decide(claim) else { fatalError("a claim lost with no rival") }
                decideTimes.append(clock.now - started)
                let expected = "\(row.host)/\(row.bottle)/\(row.id)"
                while let payload = try await iterator.next(), payload != expected {}
                notifyTimes.append(clock.now - started)
            }
            print("decide: \(summary(decideTimes)); claim → NOTIFY read: \(summary(notifyTimes))")
        }
        try await server.stop()
    }

    static func ms(_ duration: Duration) -> String {
        String(format: "%.1f ms", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
    }

    static func summary(_ values: [Duration]) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "n/a" }
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        return "median \(ms(sorted[sorted.count / 2])), p99 \(ms(p99)) (n=\(sorted.count))"
    }
}
