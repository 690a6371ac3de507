import FileAccess
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
        // docs.python.org taken out by hand meanwhile: the permanent approval adds it again over the
        // file it replaces (what the operator sees diffed), so it is released from the grant.
        try bed.write(Self.base + "pypi.org\n", to: "allowlist")
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
        // The ledger is a host file, not a queue file: its refusals are the file layer's.
        #expect(throws: FileAccessError.symbolicLink(path: ledger.path.string, directory: false)) { try ledger.grants() }
        unlink(ledger.path.string)
        // A FIFO is refused without blocking.
        mkfifo(ledger.path.string, 0o600)
        #expect(throws: FileAccessError.notRegularFile(path: ledger.path.string, type: S_IFIFO)) { try ledger.grants() }
        unlink(ledger.path.string)
        // Too large.
        let large = Data(count: GrantLedger.maximumSize + 1)
        _ = FileManager.default.createFile(atPath: ledger.path.string, contents: large)
        #expect(throws: FileAccessError.tooLarge(path: ledger.path.string, size: nil, limit: GrantLedger.maximumSize)) {
            try ledger.grants()
        }
        unlink(ledger.path.string)
        // A grant on a Dockerfile (hand-edited) is refused.
        let forged = #"{"format":1,"grants":[{"id":"20261206-101500-3fa9c2d1e4b7","bottle":"demo","file":"Dockerfile","holdings":{"hosts":[],"routes_added":[],"routes_changed":[]},"granted_by":"x","granted_at":"2026-12-06T10:15:00.000Z","expires_at":"2026-12-06T11:15:00.000Z"}]}"#
        _ = FileManager.default.createFile(atPath: ledger.path.string, contents: Data(forged.utf8))
        #expect(throws: QueueError.self) { try ledger.grants() }
    }
    // MARK: - Security review findings

    /// Finding 1: the agent deletes an approved proposal's files and writes a new proposal under the
    /// same id; approving it (a rule, a human) used to replace the live grant, making its access permanent.
    @Test func aProposalReusingADecidedIDIsRefusedAndTheLiveGrantStillEnds() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let first = try await propose(bed, Self.base + "docs.python.org\n")
        _ = try await applier.apply(
            decision: approval(first), proposal: first, queue: bed.queue, grant: .lasting(try .parse("30m")), now: t0)
        // The sidecar controls the bottle's queue directory: it deletes the decision and the proposal.
        for directory in [bed.queue.directory, bed.queue.directory.appending("archive")] {
            for suffix in ["proposal.json", "decision.json"] {
                unlink(directory.appending("\(first.id).\(suffix)").string)
            }
        }
        let replay = Proposal(
            id: first.id, bottle: bed.bottle, tool: .pipelockBlock,
            proposedFile: Self.base + "docs.python.org\nevil.example\n", justification: "again",
            currentFileSHA256: SHA256Hex.of(try bed.current(.allowlist) ?? ""))
        _ = try await bed.queue.submit(replay)
        do {
            _ = try await applier.apply(
                decision: approval(replay), proposal: replay, queue: bed.queue, grant: .permanent, now: t0)
            Issue.record("a replayed proposal id was applied")
        } catch let error as ApplyError {
            guard case .replayedProposal(let id, _) = error else { throw error }
            #expect(id == first.id)
            #expect(error.description.contains("replay"))
        }
        #expect(try bed.queue.decision(first.id) == nil, "nothing was decided")
        #expect(try bed.current(.allowlist) == Self.base + "docs.python.org\n")
        #expect(try applier.grantLedger.live().map(\.holdings.hosts) == [["docs.python.org"]])
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(1_800))
        #expect(try bed.current(.allowlist) == Self.base)
    }

    /// Finding 1: a grant is keyed on (bottle, id): recording one under a taken key is refused, another
    /// bottle's grant of the same id is never touched, and revoke/extend need SLUG/ID when ids are shared.
    @Test func grantsAreKeyedOnBottleAndIDAndASharedIDMustBeNamedWithItsBottle() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        _ = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("30m")),
            now: t0)
        let other = try BottleSlug("aaa")
        let foreign = Grant(
            id: proposal.id, bottle: other, file: .allowlist, holdings: GrantHoldings(hosts: ["x.example"]),
            grantedBy: "bob", grantedAt: t0, expiresAt: t0.addingTimeInterval(3_600))
        try applier.grantLedger.update { $0.append(foreign) }
        // Recording under a key that is taken is refused, not a replacement.
        #expect(throws: ApplyError.self) {
            try applier.recordGrant(
                GrantHoldings(hosts: ["evil.example"]), of: proposal, file: .allowlist, before: nil, grantedBy: "rule",
                grantedAt: t0, expiresAt: t0.addingTimeInterval(60))
        }
        do {
            _ = try await applier.revokeGrant(proposal.id, now: t0)
            Issue.record("an id two bottles share was revoked without saying which")
        } catch let error as ApplyError {
            guard case .ambiguousGrant(_, let bottles) = error else { throw error }
            #expect(Set(bottles) == ["aaa", "demo"])
            #expect(error.description.contains("demo/\(proposal.id)"))
        }
        await #expect(throws: ApplyError.self) {
            try await applier.extendGrant(proposal.id, by: try .parse("1h"), now: t0)
        }
        _ = try await applier.extendGrant(proposal.id, bottle: other, by: try .parse("2h"), now: t0)
        let end = try await applier.revokeGrant(proposal.id, bottle: bed.bottle, now: t0)
        #expect(end.grant.bottle == bed.bottle)
        #expect(try bed.current(.allowlist) == Self.base)
        let live = try applier.grantLedger.live()
        #expect(live.map(\.bottle) == [other])
        #expect(live.first?.expiresAt == t0.addingTimeInterval(7_200))
        #expect(live.first?.holdings.hosts == ["x.example"])
    }

    /// Finding 3: re-running a failed time-boxed apply used to make it permanent.
    @Test func reRunningAFailedTimeBoxedApplyKeepsItTimeBoxedAndIsRefusedOnceItsTimeIsOver() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: "[reload.allowlist]\ncommand = [\"false\"]\n")
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        let decision = approval(proposal)
        let failed = try await applier.apply(
            decision: decision, proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("30m")), now: t0)
        #expect(failed.apply?.state == .failed)
        #expect(try applier.grantLedger.live().isEmpty, "a failed apply holds nothing")

        try bed.write(Self.succeed, to: "supervise.toml")
        let rerun = try await applier.reapply(
            proposal.id, proposal: proposal, proposalSHA256: decision.proposalSHA256, queue: bed.queue,
            operatorName: "alice", now: t0.addingTimeInterval(60))
        #expect(rerun.apply?.state == .applied)
        #expect(rerun.expiresAt == t0.addingTimeInterval(1_800))
        let live = try applier.grantLedger.live()
        #expect(live.map(\.holdings.hosts) == [["docs.python.org"]])
        #expect(live.first?.expiresAt == t0.addingTimeInterval(1_800))
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(1_800))
        #expect(try bed.current(.allowlist) == Self.base)

        // Past its time, a re-run is refused: it would be for good.
        try bed.write("[reload.allowlist]\ncommand = [\"false\"]\n", to: "supervise.toml")
        let late = try await propose(bed, Self.base + "pypi.org\n")
        let lateDecision = approval(late)
        _ = try await applier.apply(
            decision: lateDecision, proposal: late, queue: bed.queue, grant: .lasting(try .parse("5m")), now: t0)
        try bed.write(Self.succeed, to: "supervise.toml")
        await #expect(throws: ReapplyRefusal.grantOver(late.id, expiresAt: t0.addingTimeInterval(300))) {
            try await applier.reapply(
                late.id, proposal: late, proposalSHA256: lateDecision.proposalSHA256, queue: bed.queue,
                operatorName: "alice", now: t0.addingTimeInterval(300))
        }
        #expect(try bed.current(.allowlist) == Self.base)
        #expect(try applier.grantLedger.live().isEmpty)
    }

    static let routesSettings = "[reload.routes]\ncommand = [\"true\"]\n"
    static let ghRO = #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET"]}]}"# + "\n"
    static let ghRW = #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET", "POST"]}]}"# + "\n"
    static let ghRWD =
        #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET", "POST", "DELETE"]}]}"# + "\n"

    /// Finding 4: G1 changes a route (4 s), G2 changes G1's route again (8 s); G2's end used to put
    /// back G1's route, which then never ended.
    @Test func twoGrantsInARowOnOneRouteEndWithTheOriginalRouteBack() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.ghRO, to: "routes.json")
        let applier = try bed.applier(settings: Self.routesSettings)
        let first = try await bed.propose(Self.ghRW)
        _ = try await applier.apply(
            decision: approval(first), proposal: first, queue: bed.queue, grant: .lasting(try .parse("4s")), now: t0)
        let second = try await bed.propose(Self.ghRWD)
        _ = try await applier.apply(
            decision: approval(second), proposal: second, queue: bed.queue, grant: .lasting(try .parse("8s")), now: t0)
        let firstEnd = try await applier.endOverdueGrants(now: t0.addingTimeInterval(4))
        #expect(firstEnd.first?.outcome.summary.contains("already changed or gone") == true)
        #expect(try RoutesDocument.parse(bed.current(.routes) ?? "").routes == RoutesDocument.parse(Self.ghRWD).routes)
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(8))
        #expect(try RoutesDocument.parse(bed.current(.routes) ?? "").routes == RoutesDocument.parse(Self.ghRO).routes)
    }

    /// Finding 2: a granted route whose keys were reordered since is still the grant's, and ends.
    @Test func aGrantedRouteWithItsKeysReorderedStillEnds() async throws {
        let bed = try ApplyBed()
        try bed.write(ApplyBed.routesV1, to: "routes.json")
        let applier = try bed.applier(settings: Self.routesSettings)
        let granted = #"{"routes": [{"host": "api.one.example"}, {"name": "pypi", "upstream": "https://pypi.org"}]}"#
        let proposal = try await bed.propose(granted + "\n")
        _ = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("1m")),
            now: t0)
        // The agent's next proposal (approved for good) reorders the granted route's keys.
        let reordered = #"{"routes": [{"host": "api.one.example"}, {"upstream": "https://pypi.org", "name": "pypi"}]}"#
        let reorder = try await bed.propose(reordered + "\n")
        _ = try await applier.apply(
            decision: approval(reorder), proposal: reorder, queue: bed.queue, grant: .permanent, now: t0)
        #expect(try applier.grantLedger.live().first?.holdings.routesAdded.count == 1, "a reorder adds nothing")
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(60))
        #expect(try RoutesDocument.parse(bed.current(.routes) ?? "").routes == RoutesDocument.parse(ApplyBed.routesV1).routes)
    }

    /// Finding 5: one grant whose end throws (its bottle's supervise.toml does not parse) used to stop
    /// every other grant's expiry; it is now recorded on that grant, which shows as overdue.
    @Test func aGrantThatCannotEndDoesNotHoldUpTheOthers() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let broken = try BottleSlug("aaa")
        try AtomicFile.makeDirectory(bed.configRoot.appending("aaa"))
        try AtomicFile.write(Data("[reload.allowlist\n".utf8), to: bed.configRoot.appending("aaa").appending("supervise.toml"))
        let stuck = Grant(
            id: .generate(), bottle: broken, file: .allowlist, holdings: GrantHoldings(hosts: ["x.example"]),
            grantedBy: "bob", grantedAt: t0, expiresAt: t0.addingTimeInterval(10))
        try applier.grantLedger.update { $0.append(stuck) }
        let proposal = try await propose(bed, Self.base + "docs.python.org\n")
        _ = try await applier.apply(
            decision: approval(proposal), proposal: proposal, queue: bed.queue, grant: .lasting(try .parse("1m")),
            now: t0)

        let ends = try await applier.endOverdueGrants(now: t0.addingTimeInterval(60))
        #expect(ends.map(\.outcome.state) == [.failed, .applied])
        #expect(try bed.current(.allowlist) == Self.base)
        let live = try applier.grantLedger.live()
        #expect(live.map(\.bottle) == [broken])
        #expect(live.first?.endError?.contains("grant not expired") == true)
        #expect(live.first?.endAttemptedAt == t0.addingTimeInterval(60))
        #expect(GrantDuration.left(until: stuck.expiresAt, now: t0.addingTimeInterval(60)) == "overdue")
    }

    /// Finding 6: `approve --force` of a proposal claiming an older base used to release, from a live
    /// grant, hosts the operator never saw in the diff (the claimed base lacked them; the file did not).
    @Test func aForcedApprovalOverAStaleBaseReleasesOnlyWhatItAddsToTheFileItReplaces() async throws {
        let bed = try ApplyBed()
        try bed.write(Self.base, to: "allowlist")
        let applier = try bed.applier(settings: Self.succeed)
        let timed = try await propose(bed, Self.base + "pypi.org\n")
        _ = try await applier.apply(
            decision: approval(timed), proposal: timed, queue: bed.queue, grant: .lasting(try .parse("1h")), now: t0)
        // Made against the base before the grant (in the history): pypi.org reads as added by it.
        let stale = try await propose(bed, Self.base + "pypi.org\nother.example\n", against: Self.base)
        _ = try await applier.apply(
            decision: approval(stale), proposal: stale, queue: bed.queue, force: true, grant: .permanent, now: t0)
        #expect(try applier.grantLedger.live().first?.holdings.hosts == ["pypi.org"])
        _ = try await applier.endOverdueGrants(now: t0.addingTimeInterval(3_600))
        #expect(try bed.current(.allowlist) == Self.base + "other.example\n")
    }
}
