import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// Grants on the apply path, with the clock injected (`now:`): made by an
/// approval, ended through the same write–reload–history–audit path.
@Suite struct GrantApplierTests {
    static let succeed = "[reload.allowlist]\ncommand = [\"true\"]\n"
    static let base = "api.one.example\n"

    func approval(_ proposal: Proposal) -> Decision {
        Decision(
            id: proposal.id, status: .approved, notes: "ok", decidedBy: "alice",
            proposalSHA256: (try? QueueFormat.encode(proposal)).map { SHA256Hex.of($0) })
    }

    func propose(_ bed: ApplyBed, _ text: String, against base: String? = nil) async throws -> Proposal {
        let proposal = Proposal(
            bottle: bed.bottle, tool: .pipelockBlock, proposedFile: text, justification: "need it",
            currentFileSHA256: SHA256Hex.of(try base ?? bed.current(.allowlist) ?? ""))
        _ = try await bed.queue.submit(proposal)
        return proposal
    }

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aGrantEndsAtItsDeadlineAndOnlyThen() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        let decision = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue,
            grant: .lasting(try GrantDuration.parse("30m")), now: t0)
        #expect(decision.expiresAt == t0.addingTimeInterval(1_800))
        #expect(try bed.queue.decision(proposal.id)?.expiresAt == t0.addingTimeInterval(1_800))
        #expect(try applier.grantLedger.live().map(\.holdings.hosts) == [["docs.python.org"]])

        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(1_799)).isEmpty)
        #expect(try bed.current(.allowlist) == Self.base + "docs.python.org\n")

        let ended = try await applier.endOverdueGrants(now: t0.addingTimeInterval(1_800), by: "watch")
        #expect(ended.map(\.outcome.state) == [.applied])
        #expect(try bed.current(.allowlist) == Self.base)
        #expect(try applier.grantLedger.live().isEmpty)
        #expect(try applier.grantLedger.grants().first?.ended?.reason == .expired)
        let audit = try AuditLog(queueRoot: bed.queueRoot).records()
        #expect(audit.map(\.event) == [.decision, .apply, .expire])
        #expect(audit.last?.by == "watch")
        #expect(audit.last?.status == "applied")
        // The history holds the file as the grant left it, so the end can be rolled back too.
        #expect(try bed.config.history(of: .allowlist, for: bed.bottle).newest()?.content
            == Data((Self.base + "docs.python.org\n").utf8))
    }

    @Test func twoOverlappingGrantsForOneHostKeepItUntilTheLastEnds() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let first = try await propose(bed, Self.base + "docs.python.org\n", against: Self.base)
        let second = try await propose(bed, Self.base + "docs.python.org\npypi.org\n", against: Self.base)
        _ = try await applier.apply(
            decision: approval(first), proposal: first, queue: bed.queue, grant: .lasting(try .parse("10m")), now: t0)
        _ = try await applier.apply(
            decision: approval(second), proposal: second, queue: bed.queue, force: true,
            grant: .lasting(try .parse("20m")), now: t0)
        #expect(try applier.grantLedger.live().map(\.holdings.hosts) == [["docs.python.org"], ["docs.python.org", "pypi.org"]])

        let firstEnd = try await applier.endOverdueGrants(now: t0.addingTimeInterval(600))
        #expect(firstEnd.first?.outcome.summary.contains("nothing to take out") == true)
        #expect(try bed.current(.allowlist) == Self.base + "docs.python.org\npypi.org\n")

        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(1_200))
        #expect(try bed.current(.allowlist) == Self.base)
    }

    @Test func aLaterPermanentApprovalOfTheSameHostSurvivesTheGrant() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let timed = try await propose(bed, Self.base + "docs.python.org\npypi.org\n", against: Self.base)
        let forGood = try await propose(bed, Self.base + "docs.python.org\n", against: Self.base)
        _ = try await applier.apply(
            decision: approval(timed), proposal: timed, queue: bed.queue, grant: .lasting(try .parse("1h")), now: t0)
        _ = try await applier.apply(
            decision: approval(forGood), proposal: forGood, queue: bed.queue, force: true, grant: .permanent, now: t0)
        // The permanent approval wrote its own file (without pypi.org) and released docs.python.org.
        #expect(try applier.grantLedger.live().first?.holdings.hosts == ["pypi.org"])
        try bed.write(Self.base + "docs.python.org\npypi.org\n", to: "allowlist")
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(3_600))
        #expect(try bed.current(.allowlist) == Self.base + "docs.python.org\n")
    }

    @Test func revokeEndsNowAndExtendMovesTheDeadlineWithinTheMaximum() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed + "[grants.allowlist]\nmaximum = \"2h\"\n")
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        let decision = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, now: t0)
        #expect(decision.expiresAt == t0.addingTimeInterval(7_200), "the maximum is the default without one")

        let extended = try await applier.extendGrant(proposal.id, by: try .parse("90m"), now: t0.addingTimeInterval(60))
        #expect(extended.expiresAt == t0.addingTimeInterval(60 + 5_400))
        #expect(try bed.queue.decision(proposal.id)?.expiresAt == extended.expiresAt)
        await #expect(throws: ApplyError.self) {
            try await applier.extendGrant(proposal.id, by: try .parse("3h"), now: t0)
        }

        let end = try await applier.revokeGrant(proposal.id, now: t0.addingTimeInterval(120))
        #expect(end.grant.ended?.reason == .revoked)
        #expect(try bed.current(.allowlist) == Self.base)
        #expect(try bed.queue.decision(proposal.id)?.expiresAt == t0.addingTimeInterval(120))
        await #expect(throws: ApplyError.self) { try await applier.revokeGrant(proposal.id) }
        #expect(try AuditLog(queueRoot: bed.queueRoot).records().map(\.event) == [.decision, .apply, .extend, .revoke])
    }

    @Test func anEndWhoseReloadFailsLeavesTheGrantLiveAndTheFileAsItWas() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        _ = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("1m")),
            now: t0)
        try bed.write("[reload.allowlist]\ncommand = [\"false\"]\n", to: "supervise.toml")
        let end = try await applier.endOverdueGrants(now: t0.addingTimeInterval(60))
        #expect(end.first?.outcome.state == .failed)
        #expect(try bed.current(.allowlist) == Self.base + "docs.python.org\n")
        #expect(try applier.grantLedger.live().first?.endError != nil)
        // Not tried again within the retry interval, then tried again.
        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(61)).isEmpty)
        try bed.write(Self.succeed, to: "supervise.toml")
        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(91)).first?.outcome.state == .applied)
        #expect(try bed.current(.allowlist) == Self.base)
    }

    @Test func theAgentsViewIsNeverReadBackAForgedOrDeletedDecisionChangesNoEnd() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        _ = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("5m")),
            now: t0)
        // The sidecar (which controls the bottle's directory) pushes the decision's end a year out, then deletes it.
        try bed.queue.recordGrantEnd(t0.addingTimeInterval(365 * 86_400), for: proposal.id)
        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(299)).isEmpty)
        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(300)).count == 1)
        #expect(try bed.current(.allowlist) == Self.base)

        let second = try await propose(bed, Self.base + "pypi.org\n")
        _ = try await applier.apply(
            decision: approval(second), proposal: second, queue: bed.queue, grant: .lasting(try .parse("5m")), now: t0)
        unlink(bed.queue.directory.appending("\(second.id).decision.json").string)
        #expect(try await applier.endOverdueGrants(now: t0.addingTimeInterval(300)).map(\.outcome.state) == [.applied])
        #expect(try bed.current(.allowlist) == Self.base)
    }

    @Test func aTimeBoxedDockerfileIsRefusedBeforeAnythingIsWritten() async throws {
        let bed = try ApplyBed()
        let proposal = Proposal(
            bottle: bed.bottle, tool: .capabilityBlock, proposedFile: "FROM scratch\n", justification: "x",
            currentFileSHA256: nil)
        _ = try await bed.queue.submit(proposal)
        await #expect(throws: ApplyError.self) {
            try await bed.applier().apply(
                decision: approval(proposal), proposal: proposal, queue: bed.queue,
                grant: .lasting(try .parse("1h")))
        }
        #expect(try bed.queue.decision(proposal.id) == nil)
    }

    @Test func theLedgerIsReadOnlyThroughTheGuardedOpen() async throws {
        let bed = try ApplyBed()
        let ledger = GrantLedger(queueRoot: bed.queueRoot)
        // A symbolic link in the ledger's place is refused, not followed.
        try bed.write("{\"format\":1,\"grants\":[]}", to: "elsewhere.json")
        symlink(bed.configRoot.appending(bed.bottle.rawValue).appending("elsewhere.json").string, ledger.path.string)
        #expect(throws: QueueError.self) { try ledger.grants() }
        unlink(ledger.path.string)
        // A FIFO is refused without blocking.
        mkfifo(ledger.path.string, 0o600)
        #expect(throws: QueueError.self) { try ledger.grants() }
        unlink(ledger.path.string)
        // Too large.
        let large = Data(count: GrantLedger.maximumSize + 1)
        _ = FileManager.default.createFile(atPath: ledger.path.string, contents: large)
        #expect(throws: QueueError.self) { try ledger.grants() }
        unlink(ledger.path.string)
        // A grant on a Dockerfile (hand-edited) is refused.
        let forged = #"{"format":1,"grants":[{"id":"20261206-101500-3fa9c2d1e4b7","bottle":"demo","file":"Dockerfile","holdings":{"hosts":[],"routes_added":[],"routes_changed":[]},"granted_by":"x","granted_at":"2026-12-06T10:15:00.000Z","expires_at":"2026-12-06T11:15:00.000Z"}]}"#
        _ = FileManager.default.createFile(atPath: ledger.path.string, contents: Data(forged.utf8))
        #expect(throws: QueueError.self) { try ledger.grants() }
    }
}
