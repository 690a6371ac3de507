import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

@Suite struct ApplierTests {
    static let succeed = "[reload.routes]\ncommand = [\"true\"]\n"
    static let fail = "[reload.routes]\ncommand = [\"sh\", \"-c\", \"echo proxy says no; exit 4\"]\n"

    /// An operator's decision bound to `proposal` as the sidecar wrote it (its file is exactly the encoded proposal).
    func approval(_ proposal: Proposal, _ status: DecisionStatus = .approved, finalFile: String? = nil) -> Decision {
        Decision(
            id: proposal.id, status: status, notes: "ok", finalFile: finalFile, decidedBy: "alice",
            proposalSHA256: (try? QueueFormat.encode(proposal)).map { SHA256Hex.of($0) })
    }

    @Test func approvalWritesTheFileKeepsHistoryAndAnswersTheAgent() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let decision = try await bed.applier(settings: Self.succeed).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        #expect(decision.apply?.state == .applied)
        #expect(decision.apply?.summary == "applied: wrote routes.json and ran true")
        #expect(decision.apply?.exitStatus == 0)
        #expect(decision.apply?.previousSHA256 == SHA256Hex.of(ApplyBed.routesV1))
        #expect(decision.apply?.newSHA256 == SHA256Hex.of(ApplyBed.routesV2))
        #expect(decision.isFinal)
        #expect(try bed.queue.decision(proposal.id) == decision)
        #expect(try bed.current(.routes) == ApplyBed.routesV2)
        let saved = try bed.config.history(of: .routes, for: bed.bottle).newest()
        #expect(saved?.content == Data(ApplyBed.routesV1.utf8))
        let audit = try AuditLog(queueRoot: bed.queueRoot).records()
        #expect(audit.map(\.event) == [.decision, .apply])
        #expect(audit.map(\.status) == ["approved", "applied"])
        #expect(audit[1].oldSHA256 == SHA256Hex.of(ApplyBed.routesV1))
    }

    @Test func modifiedAppliesTheOperatorsVersion() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let decision = try await bed.applier(settings: Self.succeed).apply(
            decision: approval(proposal, .modified, finalFile: ApplyBed.routesV1), proposal: proposal, queue: bed.queue)
        #expect(decision.status == .modified)
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try bed.config.history(of: .routes, for: bed.bottle).newest()?.name.hasSuffix("-absent") == true)
    }

    @Test func aFailedReloadPutsThePreviousFileBack() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let decision = try await bed.applier(settings: Self.fail).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        #expect(decision.status == .approved)
        #expect(decision.apply?.state == .failed)
        #expect(decision.apply?.summary == "approved, not applied: sh exited with status 4: proxy says no")
        #expect(decision.apply?.exitStatus == 4)
        #expect(decision.apply?.outputTail == "proxy says no")
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try bed.config.history(of: .routes, for: bed.bottle).names().isEmpty)
    }

    @Test func aFailedReloadRemovesAFileThatDidNotExist() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let decision = try await bed.applier(settings: Self.fail).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        #expect(decision.apply?.state == .failed)
        #expect(try bed.current(.routes) == nil)
    }

    @Test func aChangedFileIsAConflictUnlessForced() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let edited = #"{"routes": []}"# + "\n"
        try bed.write(edited, to: "routes.json")
        let applier = try bed.applier(settings: Self.succeed)
        await #expect(
            throws: ApplyError.conflict(
                current: edited, expectedSHA256: SHA256Hex.of(ApplyBed.routesV1), actualSHA256: SHA256Hex.of(edited))
        ) {
            try await applier.apply(decision: approval(proposal), proposal: proposal, queue: bed.queue)
        }
        #expect(try bed.queue.decision(proposal.id) == nil, "a refused apply must leave the proposal pending")
        #expect(try bed.current(.routes) == edited)
        let forced = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, force: true)
        #expect(forced.apply?.state == .applied)
        #expect(try bed.current(.routes) == ApplyBed.routesV2)
    }

    @Test func theSecondOperatorGetsAlreadyDecidedAndWritesNothing() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: Self.succeed)
        _ = try applier.reject(proposal, notes: "no", queue: bed.queue)
        await #expect(throws: QueueError.alreadyDecided(proposal.id, status: .rejected)) {
            try await applier.apply(decision: approval(proposal), proposal: proposal, queue: bed.queue)
        }
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        #expect(try AuditLog(queueRoot: bed.queueRoot).records().map(\.status) == ["rejected"])
    }

    @Test func racingApprovalsApplyExactlyOnce() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: Self.succeed)
        let queue = bed.queue
        let digest = try queue.entry(proposal.id).proposalSHA256
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        _ = try await applier.apply(
                            decision: Decision(
                                id: proposal.id, status: .approved, decidedBy: "op", proposalSHA256: digest),
                            proposal: proposal,
                            queue: queue)
                        return true
                    } catch QueueError.alreadyDecided {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try AuditLog(queueRoot: bed.queueRoot).records().filter { $0.event == .apply }.count == 1)
    }

    @Test func aBadSettingsFileStopsBeforeAnythingIsDecided() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier(settings: "[reload.routes]\ncommand = \"true\"\n")
        await #expect(throws: ApplyError.self) {
            try await applier.apply(decision: approval(proposal), proposal: proposal, queue: bed.queue)
        }
        #expect(try bed.queue.decision(proposal.id) == nil)
    }

    @Test func rejectionIsNotAnApply() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        let applier = try bed.applier()
        await #expect(throws: ApplyError.notAnApproval(.rejected)) {
            try await applier.apply(
                decision: Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "a"), proposal: proposal,
                queue: bed.queue)
        }
    }

    @Test func anInterruptedApplyIsFinishedAsFailed() async throws {
        let bed = try ApplyBed()
        let proposal = try await bed.propose(ApplyBed.routesV2)
        var claimed = Decision(id: proposal.id, status: .approved, decidedBy: "alice")
        claimed.apply = ApplyOutcome(state: .pending, summary: "applying")
        try bed.queue.decide(claimed)
        #expect(try bed.queue.decision(proposal.id)?.isFinal == false)
        let recovered = try bed.applier().recoverInterrupted(queueRoot: bed.queueRoot)
        #expect(recovered == [proposal.id])
        let decision = try #require(try bed.queue.decision(proposal.id))
        #expect(decision.isFinal)
        #expect(decision.apply?.state == .failed)
        #expect(decision.apply?.summary == "apply interrupted; check the bottle's file")
        #expect(try bed.applier().recoverInterrupted(queueRoot: bed.queueRoot).isEmpty)
    }

    @Test func rollbackIsReversibleAndAudited() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let applier = try bed.applier(settings: Self.succeed)
        let proposal = try await bed.propose(ApplyBed.routesV2)
        _ = try await applier.apply(decision: approval(proposal), proposal: proposal, queue: bed.queue)
        let back = try await applier.rollback(bottle: bed.bottle, file: .routes)
        #expect(back.state == .applied)
        #expect(try bed.current(.routes) == ApplyBed.routesV1)
        let forward = try await applier.rollback(bottle: bed.bottle, file: .routes)
        #expect(forward.state == .applied)
        #expect(try bed.current(.routes) == ApplyBed.routesV2)
        #expect(
            try AuditLog(queueRoot: bed.queueRoot).records().map(\.event) == [.decision, .apply, .rollback, .rollback])
        #expect(try AuditLog(queueRoot: bed.queueRoot).verify() == .intact(records: 4))
    }

    @Test func rollbackWithAFailedReloadLeavesTheFileAsItWas() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let proposal = try await bed.propose(ApplyBed.routesV2)
        _ = try await bed.applier(settings: Self.succeed).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        let history = bed.config.history(of: .routes, for: bed.bottle)
        let before = try history.names()
        let outcome = try await bed.applier(settings: Self.fail).rollback(bottle: bed.bottle, file: .routes)
        #expect(outcome.state == .failed)
        #expect(outcome.summary == "not rolled back: sh exited with status 4: proxy says no")
        #expect(try bed.current(.routes) == ApplyBed.routesV2)
        #expect(try history.names() == before)
    }

    @Test func rollbackWithNoHistorySaysSo() async throws {
        let bed = try ApplyBed()
        await #expect(throws: ApplyError.nothingToRollBack(bottle: bed.bottle, file: .allowlist)) {
            try await bed.applier().rollback(bottle: bed.bottle, file: .allowlist)
        }
    }
}
