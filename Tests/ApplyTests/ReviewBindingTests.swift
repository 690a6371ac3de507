import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// The apply step applies exactly what the operator reviewed, or nothing:
/// a decision is bound to the proposal file's SHA-256 as read, and the host
/// validates the content itself instead of trusting the sidecar.
@Suite("Applying what was reviewed")
struct ReviewBindingTests {
    static let succeed = "[reload.routes]\ncommand = [\"true\"]\n[reload.dockerfile]\ncommand = [\"true\"]\n"

    /// What the operator reviewed: the entry read once from the queue.
    func review(_ bed: ApplyBed, _ proposal: Proposal) throws -> QueueEntry {
        try bed.queue.entry(proposal.id)
    }

    func decision(on entry: QueueEntry, _ status: DecisionStatus = .approved, finalFile: String? = nil) -> Decision {
        Decision(
            id: entry.proposal.id, status: status, notes: "ok", finalFile: finalFile, decidedBy: "alice",
            proposalSHA256: entry.proposalSHA256)
    }

    /// Renames a file over the proposal's name, as a compromised sidecar would.
    func replace(_ bed: ApplyBed, _ id: ProposalID, with proposal: Proposal) throws {
        let path = bed.queue.directory.appending("\(id).proposal.json")
        let temp = bed.queue.directory.appending(".swap.tmp")
        try QueueFormat.encode(proposal).write(to: URL(fileURLWithPath: temp.string))
        #expect(rename(temp.string, path.string) == 0)
    }

    func nothingWritten(_ bed: ApplyBed, _ id: ProposalID) throws {
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try bed.current(.dockerfile) == nil)
        #expect(try bed.queue.decision(id) == nil)
        #expect(try AuditLog(queueRoot: bed.queueRoot).records().isEmpty)
    }

    @Test("a proposal replaced after review, even by another tool's, is refused and nothing is written")
    func replacedAfterReview() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let reviewed = try review(bed, proposal)
        // Same id, another tool: the operator reviewed routes; this would build a Dockerfile.
        var swapped = Proposal(
            id: proposal.id, bottle: bed.bottle, tool: .capabilityBlock, proposedFile: "FROM alpine\nRUN evil\n",
            justification: "same id", currentFileSHA256: nil)
        swapped.createdAt = proposal.createdAt
        try replace(bed, proposal.id, with: swapped)
        let applier = try bed.applier(settings: Self.succeed)
        await #expect(throws: ApplyError.self) {
            try await applier.apply(decision: decision(on: reviewed), proposal: reviewed.proposal, queue: bed.queue)
        }
        do {
            _ = try await applier.apply(decision: decision(on: reviewed), proposal: reviewed.proposal, queue: bed.queue)
        } catch let error as ApplyError {
            guard case .proposalChanged(let id, let was, let now) = error else {
                Issue.record("expected proposalChanged, got \(error)")
                return
            }
            #expect(id == proposal.id)
            #expect(was == reviewed.proposalSHA256)
            #expect(now != was)
        }
        // A rejection bound to the reviewed bytes is refused the same way.
        #expect(throws: ApplyError.self) {
            try applier.record(decision(on: reviewed, .rejected), of: reviewed.proposal, queue: bed.queue)
        }
        try nothingWritten(bed, proposal.id)
    }

    @Test("a decision bound to nothing is refused")
    func unboundDecision() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: Self.succeed)
        await #expect(throws: ApplyError.self) {
            try await applier.apply(
                decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice"), proposal: proposal,
                queue: bed.queue)
        }
        try nothingWritten(bed, proposal.id)
    }

    @Test("a forged proposed_file_sha256 is refused at apply")
    func hashMismatch() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        var forged = proposal
        forged.proposedFileSHA256 = SHA256Hex.of("what the agent claims it sent")
        try replace(bed, proposal.id, with: forged)
        let entry = try review(bed, proposal)
        #expect(entry.problem?.contains("does not match") == true)
        let applier = try bed.applier(settings: Self.succeed)
        await #expect(throws: ApplyError.self) {
            try await applier.apply(decision: decision(on: entry), proposal: entry.proposal, queue: bed.queue)
        }
        try nothingWritten(bed, proposal.id)
    }

    @Test("a file the validator refuses is not applied: routes.json that is not JSON, a bad modified file")
    func invalidAtApply() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        // The sidecar skipped validation: its proposal file holds a routes.json that is not JSON.
        let notJSON = Proposal(
            id: proposal.id, bottle: bed.bottle, tool: .credProxyBlock, proposedFile: "routes: all of them\n",
            justification: "trust me", currentFileSHA256: SHA256Hex.of(ApplyBed.routesV1))
        try replace(bed, proposal.id, with: notJSON)
        let entry = try review(bed, proposal)
        #expect(entry.problem?.contains("does not validate") == true)
        let applier = try bed.applier(settings: Self.succeed)
        await #expect(throws: ApplyError.self) {
            try await applier.apply(decision: decision(on: entry), proposal: entry.proposal, queue: bed.queue)
        }
        // The operator's own modified version is validated too.
        await #expect(throws: ApplyError.self) {
            try await applier.apply(
                decision: decision(on: entry, .modified, finalFile: "{\"routes\": [\u{1B}]}\n"), proposal: entry.proposal,
                queue: bed.queue)
        }
        try nothingWritten(bed, proposal.id)
    }

    @Test("the decision records the digest it was bound to")
    func digestRecorded() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let entry = try review(bed, proposal)
        let recorded = try await bed.applier(settings: Self.succeed).apply(
            decision: decision(on: entry), proposal: entry.proposal, queue: bed.queue)
        #expect(recorded.apply?.state == .applied)
        #expect(recorded.proposalSHA256 == entry.proposalSHA256)
        let file = try String(
            contentsOfFile: bed.queue.directory.appending("\(proposal.id).decision.json").string, encoding: .utf8)
        #expect(file.contains("\"proposal_sha256\" : \"\(entry.proposalSHA256 ?? "-")\""))
    }
}
