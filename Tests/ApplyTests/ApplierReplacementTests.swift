import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// The Applier with the container replacement as the Dockerfile's reload,
/// against ``FakeEngine``: what the agent is told, and the Dockerfile kept in
/// step with the container that runs.
@Suite struct ApplierReplacementTests {
    static let base = "FROM localhost/base:1\n"
    static let next = "FROM localhost/base:1\nRUN [\"/busybox\", \"true\"]\n"

    func applier(_ bed: ApplyBed, _ engine: FakeEngine) throws -> Applier {
        try bed.write("[reload.dockerfile]\nreplace = \"bot1\"\n", to: "supervise.toml")
        return Applier(
            configRoot: bed.configRoot, queueRoot: bed.queueRoot, engine: ContainerEngine("podman"),
            operatorName: "alice", engineRunner: engine, replacementClock: SteppingClock())
    }

    func approval(_ proposal: Proposal) -> Decision {
        Decision(
            id: proposal.id, status: .approved, decidedBy: "alice",
            proposalSHA256: (try? QueueFormat.encode(proposal)).map { SHA256Hex.of($0) })
    }

    @Test func anApprovalSaysTheContainerWasReplaced() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "Dockerfile")
        let engine = FakeEngine()
        let proposal = try await bed.propose(Self.next, tool: .capabilityBlock)
        let decision = try await applier(bed, engine).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        #expect(decision.apply?.state == .applied)
        #expect(
            decision.apply?.summary.hasPrefix(
                "applied: wrote Dockerfile and built localhost/demo:supervise and replaced container bot1") == true,
            "\(decision.apply?.summary ?? "")")
        #expect(try bed.current(.dockerfile) == Self.next)
        // The build used the file just written, in the bottle's config directory.
        let build = try #require(engine.recorded.first { $0[1] == "build" })
        #expect(
            build.suffix(3) == [
                "-f", bed.configRoot.appending("demo/Dockerfile").string, bed.configRoot.appending("demo").string,
            ])
    }

    @Test func aFailedReplacementIsApprovedNotAppliedWithThePreviousFileBack() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "Dockerfile")
        let engine = FakeEngine()
        engine.failing = { $0.first == "build" ? .init(status: 1, output: "Error: RUN failed") : nil }
        let proposal = try await bed.propose(Self.next, tool: .capabilityBlock)
        let decision = try await applier(bed, engine).apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue)
        #expect(decision.apply?.state == .failed)
        #expect(
            decision.apply?.summary
                == "approved, not applied: building localhost/demo:supervise failed: podman exited with status 1: "
                + "Error: RUN failed; the bottle's container was not touched")
        #expect(decision.apply?.outputTail == "Error: RUN failed")
        #expect(try bed.current(.dockerfile) == Self.base)
    }

    @Test func recoveryUndoesAnInterruptedReplacementAndPutsThePreviousDockerfileBack() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "Dockerfile")
        let proposal = try await bed.propose(Self.next, tool: .capabilityBlock)
        // What a host process killed mid-swap leaves: the decision pending, the new file written
        // (the previous one in the history), the old container stopped and parked, a journal.
        var claimed = approval(proposal)
        claimed.apply = ApplyOutcome(state: .pending, summary: "applying")
        try bed.queue.decide(claimed)
        _ = try bed.config.history(of: .dockerfile, for: bed.bottle).save(Data(Self.base.utf8))
        try bed.write(Self.next, to: "Dockerfile")
        let engine = FakeEngine()
        _ = engine.run(["podman", "stop", FakeEngine.oldID], timeout: .seconds(1), keepOutput: false)
        _ = engine.run(["podman", "rename", FakeEngine.oldID, "bot1-old-1"], timeout: .seconds(1), keepOutput: false)
        try ReplacementJournal(
            engine: "podman", name: "bot1", oldID: FakeEngine.oldID, oldWasRunning: true, parkedName: "bot1-old-1",
            nextName: "bot1-next-1", newID: nil, phase: .swapping
        ).write(to: ReplacementJournal.path(in: bed.configRoot.appending("demo")))

        let finished = try applier(bed, engine).recoverInterrupted(queueRoot: bed.queueRoot)
        #expect(finished == [proposal.id])
        let old = try #require(engine.container(named: "bot1"))
        #expect(old.id == FakeEngine.oldID && old.running)
        let outcome = try #require(try bed.queue.decision(proposal.id)?.apply)
        #expect(outcome.state == .failed)
        #expect(outcome.summary.hasSuffix("the old container runs again; the previous Dockerfile was put back"))
        #expect(try bed.current(.dockerfile) == Self.base)
        #expect(try bed.config.history(of: .dockerfile, for: bed.bottle).newest() == nil)
    }
}
