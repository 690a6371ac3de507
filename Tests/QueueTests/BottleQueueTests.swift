import FileAccess
import Foundation
import SystemPackage
import Testing

@testable import Queue

@Suite("A bottle's queue")
struct BottleQueueTests {
    @Test("a submitted proposal is pending, readable and listed")
    func submitAndRead() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        #expect(try await queue.submit(proposal) == .queued(proposal))
        #expect(try queue.proposal(proposal.id) == proposal)
        #expect(try queue.decision(proposal.id) == nil)
        #expect(try queue.pending() == [proposal])
        #expect(
            FileManager.default.fileExists(atPath: queue.directory.appending("\(proposal.id).proposal.json").string))
    }

    @Test("an identical proposal re-attaches; a different one queues")
    func resubmission() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let first = makeProposal(file: "a.example\n", justification: "first")
        #expect(try await queue.submit(first) == .queued(first))
        let retry = makeProposal(file: "a.example\n", justification: "asked again")
        #expect(try await queue.submit(retry) == .attached(first))
        let otherTool = makeProposal(tool: .capabilityBlock, file: "a.example\n")
        #expect(try await queue.submit(otherTool) == .queued(otherTool))
        let otherFile = makeProposal(file: "b.example\n")
        #expect(try await queue.submit(otherFile) == .queued(otherFile))
        #expect(try queue.pending().count == 3)
    }

    @Test(
        "a retry gets the decision nobody received, live or delivered and archived, while it is the file's latest; then it queues"
    )
    func retryAfterDecision() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let first = makeProposal()
        _ = try await queue.submit(first)
        let decision = Decision(id: first.id, status: .rejected, notes: "no", decidedBy: "ops")
        try queue.decide(decision)
        #expect(try await queue.submit(makeProposal()) == .decided(first, decision))
        // Written into a stream an old client had given up on: counted as delivered, archived.
        try await queue.archive(first.id)
        #expect(try await queue.submit(makeProposal()) == .decided(first, decision), "a rejection is not queued again")
        let unchanged = first.currentFileSHA256
        #expect(
            try queue.identical(tool: .pipelockBlock, proposedFile: first.proposedFile, currentFileSHA256: unchanged)
                == .decided(first, decision))
        #expect(try queue.identical(tool: .capabilityBlock, proposedFile: first.proposedFile, currentFileSHA256: unchanged) == nil)
        // The bottle's file changed since the rejection (the operator edited it): the retry is a new request.
        #expect(
            try queue.identical(
                tool: .pipelockBlock, proposedFile: first.proposedFile, currentFileSHA256: SHA256Hex.of("changed.example\n")) == nil)

        // Another decision on the same file, delivered: the first is no longer the latest.
        let other = makeProposal(file: "other.example\n")
        _ = try await queue.submit(other)
        try queue.decide(Decision(id: other.id, status: .approved, decidedBy: "ops"))
        try await queue.archive(other.id)
        #expect(try queue.identical(tool: .pipelockBlock, proposedFile: first.proposedFile, currentFileSHA256: unchanged) == nil)
        let again = makeProposal()
        #expect(try await queue.submit(again) == .queued(again))

        // A withdrawn call asked again is a new request.
        try queue.decide(Decision(id: again.id, status: .withdrawn, decidedBy: "agent"))
        try await queue.archive(again.id)
        let third = makeProposal()
        #expect(try await queue.submit(third) == .queued(third))
    }

    @Test("after a restart an identical retry still re-attaches, or gets the decision nobody received, live or archived")
    func resubmissionAfterRestart() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let pending = makeProposal(file: "pending.example\n")
        let decided = makeProposal(file: "decided.example\n")
        _ = try await queue.submit(pending)
        _ = try await queue.submit(decided)
        let decision = Decision(id: decided.id, status: .approved, decidedBy: "ops")
        try queue.decide(decision)
        // A leftover index file of an older build goes on recovery.
        writeRaw("{}", to: queue.directory.appending(String(repeating: "ab", count: 32) + ".key"))

        // The sidecar restarts: the index is read again from the live proposals, at recovery…
        ResubmissionIndex.shared.forget(queue.directory.string)
        let report = try queue.recover(clearWaitingMarkers: true)
        #expect(report.pendingProposals == 1)
        #expect(try DirectoryListing.names(in: queue.directory).allSatisfy { !$0.hasSuffix(".key") })
        #expect(try await queue.submit(makeProposal(file: "pending.example\n")) == .attached(pending))
        #expect(try await queue.submit(makeProposal(file: "decided.example\n")) == .decided(decided, decision))

        // …or, without a recovery, at the first submission.
        ResubmissionIndex.shared.forget(queue.directory.string)
        #expect(try await queue.submit(makeProposal(file: "pending.example\n")) == .attached(pending))
        try await queue.archive(decided.id)
        // Delivered and archived: still its file's latest decision, so the retry gets it.
        #expect(try await queue.submit(makeProposal(file: "decided.example\n")) == .decided(decided, decision))
        // The sidecar restarts (replaced by a new image, or crashed): recovery reads each tool's latest
        // archived decision back, so the old client's retry still gets the decision it never read.
        ResubmissionIndex.shared.forget(queue.directory.string)
        try queue.recover(clearWaitingMarkers: true)
        #expect(try await queue.submit(makeProposal(file: "decided.example\n")) == .decided(decided, decision))
        // Without a recovery (a host process, or a first use) only the live proposals are known: a new request.
        ResubmissionIndex.shared.forget(queue.directory.string)
        let fresh = makeProposal(file: "decided.example\n")
        #expect(try await queue.submit(fresh) == .queued(fresh))
        try queue.decide(Decision(id: fresh.id, status: .withdrawn, decidedBy: "agent"))

        // A later decision on the same tool's file, archived before the next restart, ends it after the restart too.
        try await waitForNextChangeTime(after: queue.archiveDirectory.appending("\(decided.id).proposal.json"))
        try await queue.archive(fresh.id)
        let rejected = makeProposal(file: "rejected.example\n")
        _ = try await queue.submit(rejected)
        let rejection = Decision(id: rejected.id, status: .rejected, notes: "no", decidedBy: "ops")
        try queue.decide(rejection)
        try await waitForNextChangeTime(after: queue.archiveDirectory.appending("\(fresh.id).proposal.json"))
        try await queue.archive(rejected.id)
        ResubmissionIndex.shared.forget(queue.directory.string)
        try queue.recover(clearWaitingMarkers: true)
        let unchanged = rejected.currentFileSHA256
        #expect(
            try queue.identical(tool: .pipelockBlock, proposedFile: decided.proposedFile, currentFileSHA256: unchanged) == nil)
        #expect(
            try queue.identical(tool: .pipelockBlock, proposedFile: rejected.proposedFile, currentFileSHA256: unchanged)
                == .decided(rejected, rejection), "the rejection is not queued again after a restart")
    }

    /// Waits (2 s at most) until the kernel's clock, which stamps change times, has passed the change
    /// time of `path`: a file changed after this gets a later one, so the two archives are told apart.
    func waitForNextChangeTime(after path: FilePath) async throws {
        var info = stat()
        #expect(stat(path.string, &info) == 0, "\(path)")
        let changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME_COARSE, &now)
            if Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) > changed { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("the clock did not pass \(path)'s change time within 2 s")
    }

    @Test("after a restart each tool's latest archive is found by change time, newest first; a tie or an unreadable file is no answer; reads are bounded in count and bytes")
    func latestArchivedChoice() {
        func id(_ n: Int) -> ProposalID { try! ProposalID("20261207-0900\(String(format: "%02d", n))-\(String(repeating: "a", count: 12))") }
        let tools: [Int: Tool] = [1: .pipelockBlock, 2: .pipelockBlock, 3: .credProxyBlock, 4: .capabilityBlock,
            5: .credProxyBlock, 6: .capabilityBlock, 7: .pipelockBlock]
        var reads: [Int] = []
        func read(_ proposal: ProposalID) -> (tool: Tool, key: String)? {
            let n = Int(proposal.rawValue.dropFirst(13).prefix(2))!
            reads.append(n)
            return tools[n].map { ($0, "key\(n)") }
        }
        // Change times: 7 is newest (pipelock), 6 (capability), 5 (cred-proxy); then older ones.
        let candidates: [LatestArchived.Candidate] = [100, 200, 300, 400, 500, 600, 700].enumerated().map {
            .init(changed: Int64($0.element), size: 1_000, id: id($0.offset + 1))
        }
        let chosen = LatestArchived.choose(from: candidates, lookback: 256, byteBudget: 1 << 20, read: read)
        #expect(chosen.mapValues(\.key) == [.pipelockBlock: "key7", .capabilityBlock: "key6", .credProxyBlock: "key5"])
        #expect(reads == [7, 6, 5], "stops once every tool is found and nothing older can tie")

        // Two archives of one tool in one tick: not told apart, so no answer for that tool; others unaffected.
        reads = []
        let tie = candidates + [.init(changed: 700, size: 1_000, id: id(2))]
        let tied = LatestArchived.choose(from: tie, lookback: 256, byteBudget: 1 << 20, read: read)
        #expect(tied[.pipelockBlock] == nil && tied[.capabilityBlock]?.key == "key6" && tied[.credProxyBlock]?.key == "key5")

        // An unreadable newest file is skipped; the lookback bounds the reads.
        reads = []
        let unreadable = candidates + [.init(changed: 800, size: 1_000, id: id(9))]
        #expect(LatestArchived.choose(from: unreadable, lookback: 256, byteBudget: 1 << 20, read: read)[.pipelockBlock]?.key == "key7")
        reads = []
        let bounded = LatestArchived.choose(from: candidates, lookback: 2, byteBudget: 1 << 20, read: read)
        #expect(reads == [7, 6] && bounded.count == 2 && bounded[.credProxyBlock] == nil)
        // An archive of huge proposals: no more than the byte budget is read, whatever the lookback.
        reads = []
        let huge = candidates.map { LatestArchived.Candidate(changed: $0.changed, size: 2 << 20, id: $0.id) }
        let budgeted = LatestArchived.choose(from: huge, lookback: 256, byteBudget: 4 << 20, read: read)
        #expect(reads == [7, 6] && budgeted.count == 2)
    }

    @Test("concurrent identical submissions in one process make one proposal")
    func concurrentIdentical() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let ids = try await withThrowingTaskGroup(of: ProposalID.self) { group in
            for _ in 0..<32 { group.addTask { try await queue.submit(makeProposal()).proposal.id } }
            return try await group.reduce(into: Set<ProposalID>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try queue.pending().count == 1)
    }

    @Test("of many concurrent deciders exactly one wins; the others are told who won")
    func decisionRace() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let statuses: [DecisionStatus] = [.approved, .rejected, .withdrawn, .expired]
        let results = await withTaskGroup(of: Result<DecisionStatus, QueueError>.self) { group in
            for index in 0..<100 {
                let status = statuses[index % statuses.count]
                group.addTask {
                    do throws(QueueError) {
                        try queue.decide(
                            Decision(id: proposal.id, status: status, notes: "n\(index)", decidedBy: "op\(index)"))
                        return .success(status)
                    } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = results.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let stored = try #require(try queue.decision(proposal.id))
        #expect(stored.status == winners[0])
        for case .failure(let error) in results {
            #expect(error == .alreadyDecided(proposal.id, status: winners[0]))
        }
    }

    @Test("deciding an unknown id says no such proposal; deciding an archived one says already decided")
    func decideUnknownOrArchived() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let unknown = ProposalID.generate()
        #expect(throws: QueueError.noSuchProposal(unknown.rawValue)) {
            try queue.decide(Decision(id: unknown, status: .approved, decidedBy: "ops"))
        }
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        try queue.decide(Decision(id: proposal.id, status: .withdrawn, decidedBy: "agent"))
        try await queue.archive(proposal.id)
        #expect(throws: QueueError.alreadyDecided(proposal.id, status: .withdrawn)) {
            try queue.decide(Decision(id: proposal.id, status: .approved, decidedBy: "ops"))
        }
    }

    @Test("archive moves proposal and decision, keeps them readable, and lists them with --all")
    func archive() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        try queue.setWaiting(proposal.id, true)
        await #expect(throws: QueueError.self) { try await queue.archive(proposal.id) }
        let decision = Decision(id: proposal.id, status: .modified, finalFile: "x.example\n", decidedBy: "ops")
        try queue.decide(decision)
        try await queue.archive(proposal.id)
        #expect(!queue.isLive(proposal.id))
        #expect(!queue.isWaiting(proposal.id))
        #expect(try queue.proposal(proposal.id) == proposal)
        #expect(try queue.decision(proposal.id) == decision)
        #expect(try queue.pending().isEmpty)
        let all = try queue.all()
        #expect(all.map(\.archived) == [true])
        #expect(all.first?.decision == decision)
        let live = try DirectoryListing.names(in: queue.directory).filter { !$0.hasPrefix("archive") }
        #expect(live.isEmpty, "left in the live directory: \(live)")
    }

    @Test("the apply outcome is filled into the winner's decision")
    func recordApply() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        try queue.decide(
            Decision(
                id: proposal.id, status: .approved, decidedBy: "ops",
                apply: ApplyOutcome(state: .pending, summary: "applying")))
        #expect(try queue.decision(proposal.id)?.isFinal == false)
        try queue.recordApply(ApplyOutcome(state: .applied, summary: "reloaded"), for: proposal.id)
        let final = try #require(try queue.decision(proposal.id))
        #expect(final.isFinal)
        #expect(final.apply?.summary == "reloaded")
        #expect(final.status == .approved)
    }

    @Test(
        "restart after a crash: temp files cleaned, half-done archive finished, markers cleared, pending still decidable"
    )
    func recovery() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let pending = makeProposal(file: "p.example\n")
        let decided = makeProposal(file: "d.example\n")
        _ = try await queue.submit(pending)
        _ = try await queue.submit(decided)
        try queue.setWaiting(pending.id, true)
        try queue.decide(Decision(id: decided.id, status: .approved, decidedBy: "ops"))
        // The crash: archive cut after the proposal moved, and a writer died mid-write.
        try AtomicFile.move(
            queue.directory.appending("\(decided.id).proposal.json"),
            to: queue.archiveDirectory.appending("\(decided.id).proposal.json"))
        let temp = queue.directory.appending(".\(pending.id).decision.json.dead.tmp")
        writeRaw("{\"format\":1,\"id\"", to: temp)
        var old = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, temp.string, &old, 0)

        let report = try queue.recover(clearWaitingMarkers: true)
        #expect(report.removedTempFiles == [temp.lastComponent!.string])
        #expect(report.clearedWaitingMarkers == [pending.id])
        #expect(report.pendingProposals == 1)
        #expect(try queue.decision(decided.id)?.status == .approved)
        #expect(
            !FileManager.default.fileExists(atPath: queue.directory.appending("\(decided.id).decision.json").string))
        #expect(try queue.pending() == [pending])
        try queue.decide(Decision(id: pending.id, status: .rejected, notes: "after restart", decidedBy: "ops"))
        #expect(try queue.decision(pending.id)?.notes == "after restart")
    }

    @Test("a proposal file claiming another bottle or another id is refused, not believed")
    func filesAreNotBelievedAboutOthers() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let foreign = makeProposal(bottle: slug("other"))
        try AtomicFile.write(
            try QueueFormat.encode(foreign), to: queue.directory.appending("\(foreign.id).proposal.json"))
        #expect(throws: QueueError.self) { try queue.proposal(foreign.id) }
        let renamed = makeProposal()
        try AtomicFile.write(
            try QueueFormat.encode(renamed), to: queue.directory.appending("\(ProposalID.generate()).proposal.json"))
        #expect(throws: QueueError.self) { try queue.pending() }
    }

    @Test("stray names in the queue directory are ignored")
    func strayNames() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        writeRaw("x", to: queue.directory.appending("../escape.proposal.json"))
        writeRaw("x", to: queue.directory.appending("notes.txt"))
        writeRaw("x", to: queue.directory.appending("ABC.proposal.json"))
        #expect(try queue.pending().isEmpty)
    }
}

@Suite("The queue root")
struct QueueRootTests {
    @Test("pending proposals of every bottle, oldest first; locate finds the bottle")
    func acrossBottles() async throws {
        let directory = TemporaryDirectory()
        let root = QueueRoot(directory.path)
        let a = makeProposal(bottle: slug("a"), createdAt: Date(timeIntervalSince1970: 300))
        let b = makeProposal(bottle: slug("b"), createdAt: Date(timeIntervalSince1970: 100))
        let c = makeProposal(bottle: slug("b"), file: "c.example\n", createdAt: Date(timeIntervalSince1970: 200))
        for proposal in [a, b, c] { _ = try await root.queue(for: proposal.bottle).submit(proposal) }
        writeRaw("not a bottle", to: directory.path.appending("audit.log"))
        try FileManager.default.createDirectory(
            atPath: directory.path.appending("..hidden").string, withIntermediateDirectories: true)
        #expect(try root.bottles().map(\.rawValue) == ["a", "b"])
        #expect(try root.pending().map(\.proposal.id) == [b.id, c.id, a.id])
        #expect(try root.locate(a.id).bottle == slug("a"))
        let missing = ProposalID.generate()
        #expect(throws: QueueError.noSuchProposal(missing.rawValue)) { try root.locate(missing) }
    }
}
