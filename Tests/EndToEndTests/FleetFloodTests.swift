import Foundation
import PostgresTestSupport
import Testing

/// A sidecar flooding its queue directory with file names (each one a queue
/// event for its host's relay) does not hold up the claims for that host.
@Suite(
    "Fleet: a flooding sidecar does not delay its host's claims",
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (apt-get install postgresql)"),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct FleetFloodTests {
    @Test("3,000 unreadable proposal files appear in the bottle's directory; a claim made then reaches the agent within 20 s")
    func floodDoesNotDelayClaims() async throws {
        let fleet = try await FleetOfTwo.start()
        let relay = try await fleet.a.startRelay()
        defer { relay.stop() }
        let wanted = "api.github.com\npypi.org\n"
        let (id, call) = try await fleet.a.ask(wanted)
        defer { call.kill() }
        #expect(await FleetFaultTests.mirrored(id, in: fleet), "\(relay.log)")

        // What a compromised agent can do from the bottle: names it makes in its own queue
        // directory, each a distinct proposal file that does not read. Before the relay
        // coalesced its work, each name was a rescan of the bottle (reading every one of
        // them), and a claim waited behind about a thousand such rescans.
        let directory = fleet.a.bottle.queueDirectory
        for n in 0..<3_000 {
            let name = String(format: "20261207-000000-%012x.proposal.json", n)
            #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("{".utf8)))
        }

        let started = ContinuousClock.now
        let approved = try fleet.b.fleet(["approve", id, "--wait", "30"])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        let answer = try call.finish(timeout: 30)
        let elapsed = ContinuousClock.now - started
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "approved")
        #expect(elapsed < .seconds(20), "the claim took \(elapsed) to reach the agent behind the flood")
        #expect(fleet.a.allowlist() == wanted)
        #expect(fleet.a.decisionRecords(of: id).count == 1)
    }
}
