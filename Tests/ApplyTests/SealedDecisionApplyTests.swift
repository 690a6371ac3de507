import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// The apply step acts only on decisions the host sealed, as the host last
/// wrote them (docs/security.md, "Only the host decides"): an older version
/// a sidecar kept and put back is not finished as an interrupted apply, and
/// an unsigned approval from before sealing is never applied again.
@Suite struct SealedDecisionApplyTests {
    static let succeed = "[reload.routes]\ncommand = [\"true\"]\n"

    func approval(_ proposal: Proposal) -> Decision {
        Decision(
            id: proposal.id, status: .approved, notes: "ok", decidedBy: "alice",
            proposalSHA256: (try? QueueFormat.encode(proposal)).map { SHA256Hex.of($0) })
    }

    @Test func aReplayedPendingClaimIsNeitherRecoveredNorAppliedAgain() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: Self.succeed)
        var claimed = approval(proposal)
        claimed.apply = ApplyOutcome(state: .pending, summary: "applying")
        try bed.queue.decide(claimed)
        let path = bed.queueRoot.appending(bed.bottle.rawValue).appending("\(proposal.id).decision.json")
        let pending = try #require(try AtomicFile.read(path))
        try bed.queue.recordApply(
            ApplyOutcome(state: .applied, summary: "applied", previousSHA256: SHA256Hex.of(ApplyBed.routesV1)),
            for: proposal.id)
        // The operator rolls back by hand; the sidecar puts the sealed claim back.
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        try AtomicFile.write(pending, to: path)

        #expect(try applier.recoverInterrupted(queueRoot: bed.queueRoot).isEmpty)
        await #expect(throws: ReapplyRefusal.alreadyApplied(proposal.id)) {
            try await applier.reapply(
                proposal.id, proposal: proposal, proposalSHA256: claimed.proposalSHA256, queue: bed.queue,
                operatorName: "alice")
        }
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try bed.queue.decision(proposal.id)?.apply?.state == .applied)
    }

    @Test func anUnsignedApprovalIsNeverAppliedAgain() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: Self.succeed)
        // Made and audited by a build from before sealing (no key yet): unsigned, and shown as such.
        try AuditLog(queueRoot: bed.queueRoot).append(
            AuditRecord(
                event: .decision, by: "alice", bottle: bed.bottle, file: .routes, tool: proposal.tool, id: proposal.id,
                status: "approved", oldSHA256: nil, newSHA256: nil))
        let sidecar = BottleQueue(directory: bed.queueRoot.appending(bed.bottle.rawValue), bottle: bed.bottle)
        let decision = approval(proposal)
        try sidecar.decide(decision)
        #expect(try bed.queue.decision(proposal.id)?.origin == .unsigned)

        await #expect(throws: ReapplyRefusal.notSealed(proposal.id, .unsigned)) {
            try await applier.reapply(
                proposal.id, proposal: proposal, proposalSHA256: decision.proposalSHA256, queue: bed.queue,
                operatorName: "alice")
        }
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try bed.queue.decision(proposal.id)?.origin == .unsigned, "never sealed anew as the operator's")
    }

}
