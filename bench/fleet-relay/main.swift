// The fleet's two live latencies (issue 19, "One view"), with two real relays on one machine and a
// real PostgreSQL (PostgresTestSupport):
//   proposal → view     a proposal written into host a's queue (as its sidecar writes it) until a
//                       listener on the fleet's change channel — what a fleet page on host b
//                       waits on — hears of it from the database;
//   decision → agent    a decision claimed in the database (as `approve --database` or the fleet
//                       page on host b claims it) until the agent's waiter on host a (the sidecar's
//                       DecisionWaiter over the bottle's queue) has the final decision, applied.
// Each sample waits for the previous one to finish. Relays: `bottle-supervise relay` from --binary.
//
// Usage: fleet-relay --binary PATH [--samples N]
import Fleet
import Foundation
import PostgresTestSupport
import Queue

@main
struct FleetRelayBench {
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("fleet-relay: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var binary = ".build/debug/bottle-supervise"
        var samples = 200
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch (argument, arguments.next()) {
            case ("--binary", let value?): binary = value
            case ("--samples", let value?) where Int(value) != nil: samples = Int(value)!
            default:
                FileHandle.standardError.write(Data("usage: fleet-relay --binary PATH [--samples N]\n".utf8))
                exit(2)
            }
        }
        let server = try await PostgresServer.start()
        let url = try server.createDatabase("fleet")
        setenv("PGPASSWORD", PostgresServer.superuserPassword, 1)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-relay-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var relays: [Process] = []
        defer { for relay in relays where relay.isRunning { relay.terminate(); relay.waitUntilExit() } }
        for host in ["a", "b"] {
            let root = "\(scratch)/\(host)"
            relays.append(
                try await BenchRelay.start(
                    binary: binary, database: url, hostName: host, root: root,
                    bottleSettings: "[reload.allowlist]\ncommand = [\"true\"]\n"))
        }
        let queue = QueueRoot(.init("\(scratch)/a/queue")).queue(for: try BottleSlug("web"))
        // The agent's side: the sidecar's waiter (no host key: it reads the host's decisions as the sidecar does).
        let agent = try DecisionWaiter(queue: BottleQueue(directory: queue.directory, bottle: queue.bottle))
        guard
            let settings = try FleetDatabaseSettings.resolve(
                flag: url, passwordFileFlag: nil, environment: ["PGPASSWORD": PostgresServer.superuserPassword])
        else { throw PostgresServerError("no database settings") }

        var toView: [Duration] = []
        var toAgent: [Duration] = []
        let clock = ContinuousClock()
        try await FleetStore.withStore(settings: settings) { store in
            let changes = try await store.changes(channel: FleetSchema.changeChannel)
            var payloads = changes.makeAsyncIterator()
            let host = try FleetHostName("a")
            for sample in 0..<samples {
                // Approved and applied each time (its reload is `true`): made against the file as it is now.
                let current = try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/a/bottles/web/allowlist"))
                let proposal = Proposal(
                    bottle: queue.bottle, tool: .pipelockBlock, proposedFile: "api.github.com\nhost\(sample).example\n",
                    justification: "sample \(sample)", currentFileSHA256: SHA256Hex.of(current))
                let key = "a/web/\(proposal.id)"
                let written = clock.now
                _ = try await queue.submit(proposal)
                while let payload = try await payloads.next(), payload != key {}
                toView.append(clock.now - written)

                let digest = try require(try queue.entry(proposal.id).proposalSHA256)
                let claim = FleetDecisionRow(
                    host: host, bottle: queue.bottle, id: proposal.id, status: .approved, notes: "bench",
                    decidedBy: "bench", proposalSHA256: digest)
                let decided = clock.now
                async let answer = agent.decision(for: proposal.id)
                guard case .won = try await store.decide(claim) else { throw PostgresServerError("claim lost") }
                let final = try await answer
                guard final.apply?.state == .applied else { throw PostgresServerError("not applied: \(final)") }
                toAgent.append(clock.now - decided)
                // The relay's delivery and the mirror's updates announce on the channel too: let them pass.
                try await Task.sleep(for: .milliseconds(30))
                try await queue.archive(proposal.id)
            }
        }
        print("samples: \(samples) (two relays, one PostgreSQL, one machine)")
        report("proposal on host a → heard from the database", toView)
        report("decision in the database → agent's waiter on host a", toAgent)
    }

    static func require<T>(_ value: T?) throws -> T {
        guard let value else { throw PostgresServerError("missing value") }
        return value
    }

    static func report(_ what: String, _ samples: [Duration]) {
        let sorted = samples.sorted()
        func ms(_ duration: Duration) -> String {
            let (seconds, attoseconds) = duration.components
            return String(format: "%.1f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
        }
        let median = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        print("\(what): median \(ms(median)), p99 \(ms(p99)), worst \(ms(sorted.last!))")
    }
}
