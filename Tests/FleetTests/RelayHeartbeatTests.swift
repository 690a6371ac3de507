import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

/// The relay's heartbeat does more than say the host is alive: it delivers
/// the claims still awaiting this host. A claim whose NOTIFY the relay never
/// acted on (its delivery failed on a full disk, or the wake-up was lost)
/// would otherwise wait for the next claim announced for the host, which may
/// never come.
@Suite("Relay: the heartbeat retries awaiting claims", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct RelayHeartbeatTests {
    @Test("a claim the relay was never told about is delivered and applied by the next heartbeat")
    func unannouncedClaimDelivered() async throws {
        let database = try await FleetTestDatabase.start()
        let fixture = try RelayTestHost("relay-heartbeat")
        defer { fixture.removeScratch() }
        let (queue, host, bottle) = (fixture.queue, fixture.host, fixture.bottle)
        let relay = try fixture.relay(on: database)
        try await database.withStore { store in
            let running = Task { try await relay.run() }
            defer { running.cancel() }
            let proposal = fixture.proposal("quiet.example")
            _ = try await queue.submit(proposal)
            let digest = try #require(try queue.entry(proposal.id).proposalSHA256)
            try await withDeadline(seconds: 30) {
                while try await store.proposals(id: proposal.id).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            // No NOTIFY for this claim: the only way it reaches the host is the heartbeat's look.
            _ = try database.psql("ALTER TABLE fleet_decisions DISABLE TRIGGER fleet_decisions_announce")
            let claim = FleetDecisionRow(
                host: host, bottle: bottle, id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: digest)
            guard case .won = try await store.decide(claim) else {
                Issue.record("the claim did not win")
                return
            }
            let delivered = try await withDeadline(seconds: 30) {
                while true {
                    if let row = try await store.decision(host: host, bottle: bottle, id: proposal.id),
                        row.delivery == .delivered, row.applyState != .pending
                    {
                        return row
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(delivered.applyState == .applied, "\(delivered)")
            let allowlist = try String(contentsOfFile: "\(fixture.scratch)/bottles/web/allowlist", encoding: .utf8)
            #expect(allowlist == "api.github.com\nquiet.example\n")
        }
    }
}
