import Apply
import Fleet
import Foundation
import Logging
import PostgresTestSupport
import Queue
import SystemPackage
import Testing

/// The relay mirrors its host's audit chain head (`fleet_hosts.audit_head`,
/// `audit_records`): at start, after an apply it makes for a claim, and on
/// the heartbeat after a decision made on the host itself — always what the
/// host's own log says (``AuditLog/head()``).
@Suite("Relay: the audit chain's head mirrored", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct RelayAuditHeadTests {
    @Test("at start, after an apply it makes, and on the heartbeat after a local decision; the host's own log's head")
    func auditHead() async throws {
        let database = try await FleetTestDatabase.start()
        let fixture = try RelayTestHost("relay-audit")
        defer { fixture.removeScratch() }
        let (queue, applier, log, host, bottle) = (fixture.queue, fixture.applier, fixture.log, fixture.host, fixture.bottle)
        let proposal = fixture.proposal

        // One record before the relay starts: a rejection made on the host.
        let first = proposal("first.example")
        _ = try await queue.submit(first)
        _ = try applier.reject(first, notes: "no", queue: queue, decidedBy: "carol")
        #expect(try log.head().records >= 1, "a rejection is audited")

        let relay = try fixture.relay(on: database)
        try await database.withStore { store in
            let running = Task { try await relay.run() }
            defer { running.cancel() }
            /// The head the database holds for host a once it is `expected`.
            @Sendable func mirrored(_ expected: AuditHead) async throws -> FleetHostRow {
                try await withDeadline(seconds: 30) {
                    while true {
                        if let row = try await store.hosts().first(where: { $0.host == host }),
                            row.auditHead == expected.head, row.auditRecords == expected.records
                        {
                            return row
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            let started = try log.head()
            #expect(started.head != AuditLog.genesis && started.records >= 1)
            _ = try await mirrored(started)

            // A claim made in the database, applied here by the relay: one more record.
            let second = proposal("second.example")
            _ = try await queue.submit(second)
            let digest = try #require(try queue.entry(second.id).proposalSHA256)
            try await withDeadline(seconds: 30) {
                while try await store.proposals(id: second.id).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            let claim = FleetDecisionRow(
                host: host, bottle: bottle, id: second.id, status: .approved, decidedBy: "alice", proposalSHA256: digest)
            guard case .won = try await store.decide(claim) else {
                Issue.record("the claim did not win")
                return
            }
            // Delivered: the apply and its audit records are done (one apply may write more than one).
            try await withDeadline(seconds: 30) {
                while try await store.decision(host: host, bottle: bottle, id: second.id)?.delivery != .delivered {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let afterApply = try log.head()
            #expect(afterApply.records > started.records)
            let applied = try await mirrored(afterApply)
            #expect(applied.auditHead != started.head)

            // A decision made on the host itself (no claim): the heartbeat sees the log changed.
            let third = proposal("third.example")
            _ = try await queue.submit(third)
            _ = try applier.reject(third, notes: "not today", queue: queue, decidedBy: "carol")
            let local = try log.head()
            #expect(local.records > afterApply.records)
            _ = try await mirrored(local)
        }
    }
}
