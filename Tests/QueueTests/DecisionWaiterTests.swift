import Eventually
import FileAccess
import Foundation
import Synchronization
import Testing

@testable import Queue

@Suite("Waiting for a decision")
struct DecisionWaiterTests {
    @Test("a decision written by another writer reaches the waiting caller", arguments: [true, false])
    func wakes(useInotify: Bool) async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let waiter = try DecisionWaiter(queue: queue, pollInterval: .milliseconds(50), useInotify: useInotify)
        #expect(waiter.isEventDriven == useInotify)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let waiting = Task { try await waiter.decision(for: proposal.id) }
        // Registered first, so the decision below reaches it through the watcher.
        try await eventually("the caller waits") { waiter.waitingCount == 1 }
        // The host side writes through its own queue value, as the console does.
        let host = BottleQueue(directory: queue.directory, bottle: queue.bottle)
        let decision = Decision(id: proposal.id, status: .approved, notes: "ok", decidedBy: "ops")
        try host.decide(decision)
        let received = try await waiting.value
        #expect(received == decision)
    }

    @Test("a decision that already exists is returned without waiting")
    func alreadyDecided() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        try queue.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "ops"))
        try await queue.archive(proposal.id)
        let waiter = try DecisionWaiter(queue: queue)
        #expect(try await waiter.decision(for: proposal.id).status == .rejected)
    }

    @Test("an approval still being applied is held back until its outcome is recorded")
    func waitsForApply() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let waiter = try DecisionWaiter(queue: queue)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let waiting = Task { try await waiter.decision(for: proposal.id) }
        try await eventually("the caller waits") { waiter.waitingCount == 1 }
        try queue.decide(
            Decision(
                id: proposal.id, status: .approved, decidedBy: "ops", apply: ApplyOutcome(state: .pending, summary: ""))
        )
        // A wait registered now checks the decision file at once, as the watcher does on its
        // rename: an approval still being applied must not end it.
        let early = Mutex<Decision?>(nil)
        waiter.onDecision(for: proposal.id) { result in early.withLock { $0 = try? result.get() } }
        #expect(early.withLock { $0 } == nil)
        #expect(waiter.waitingCount == 2)
        try queue.recordApply(ApplyOutcome(state: .applied, summary: "reloaded cred-proxy"), for: proposal.id)
        #expect(try await waiting.value.apply?.summary == "reloaded cred-proxy")
        try await eventually("the second wait ends with the outcome too") { early.withLock { $0 } != nil }
        #expect(early.withLock { $0 }?.apply?.summary == "reloaded cred-proxy")
    }

    @Test("cancelling the wait leaves the proposal pending and decidable")
    func cancellation() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let waiter = try DecisionWaiter(queue: queue)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let waiting = Task { try await waiter.decision(for: proposal.id) }
        try await eventually("the caller waits") { waiter.waitingCount == 1 }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(waiter.waitingCount == 0)
        #expect(try queue.pending() == [proposal])
    }

    @Test("a malformed decision file ends the wait with an error, never an approval")
    func malformedFailsClosed() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let waiter = try DecisionWaiter(queue: queue)
        let proposal = makeProposal()
        _ = try await queue.submit(proposal)
        let waiting = Task { try await waiter.decision(for: proposal.id) }
        try await eventually("the caller waits") { waiter.waitingCount == 1 }
        try AtomicFile.write(
            Data(#"{"format":1,"id":"\#(proposal.id)","status":"approved"}"#.utf8),
            to: queue.directory.appending("\(proposal.id).decision.json"))
        await #expect(throws: QueueError.self) { try await waiting.value }
    }

    @Test("many held calls each get their own decision")
    func manyWaiters() async throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory)
        let waiter = try DecisionWaiter(queue: queue)
        let proposals = (0..<200).map { makeProposal(file: "h\($0).example\n") }
        for proposal in proposals { _ = try await queue.submit(proposal) }
        let results = try await withThrowingTaskGroup(of: (ProposalID, String).self) { group in
            for proposal in proposals {
                group.addTask { (proposal.id, try await waiter.decision(for: proposal.id).notes) }
            }
            try await eventually("every call waits") { waiter.waitingCount == proposals.count }
            for proposal in proposals {
                try queue.decide(
                    Decision(id: proposal.id, status: .approved, notes: proposal.id.rawValue, decidedBy: "ops"))
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.key.rawValue == $0.value })
    }
}

@Suite("Watching a queue root")
struct QueueWatchTests {
    @Test("a new bottle and a proposal in it are announced", arguments: [true, false])
    func announces(useInotify: Bool) async throws {
        let directory = TemporaryDirectory()
        let stream = QueueWatch.changes(root: directory.path, pollInterval: .milliseconds(50), useInotify: useInotify)
        let proposal = makeProposal(bottle: slug("fresh"))
        let root = QueueRoot(directory.path)
        let watching = Task {
            for await change in stream {
                if useInotify ? change.bottle == slug("fresh") : change == .all,
                    try root.pending().contains(where: { $0.proposal.id == proposal.id })
                {
                    return true
                }
            }
            return false
        }
        // `changes` watches the root before it returns, and a change the consumer has not
        // taken yet is kept (PendingChanges): the proposal may be written at once.
        _ = try await root.queue(for: proposal.bottle).submit(proposal)
        let seen = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await watching.value }
            group.addTask {
                try await Task.sleep(for: .seconds(60))  // the deadline, generous for a loaded machine
                watching.cancel()
                return false
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        #expect(seen)
    }
}

@Suite("Watching a queue root: changes not taken yet")
struct PendingChangesTests {
    private func entry(_ index: Int) -> QueueWatch.Change {
        .entry(slug("b1"), try! ProposalID(String(format: "20261125-024903-%012x", index)))
    }

    @Test("a change already waiting is not queued twice; the rest come in order")
    func coalesces() async {
        let pending = QueueWatch.PendingChanges()
        for change in [entry(1), entry(2), entry(1), .bottle(slug("b2")), entry(2)] { pending.add(change) }
        #expect(await pending.next() == entry(1))
        #expect(await pending.next() == entry(2))
        #expect(await pending.next() == .bottle(slug("b2")))
        pending.add(entry(1))
        #expect(await pending.next() == entry(1))
    }

    @Test("a burst past the limit becomes one full re-read, and nothing after it is lost")
    func collapses() async {
        let pending = QueueWatch.PendingChanges()
        for index in 0..<(QueueWatch.pendingLimit * 3) { pending.add(entry(index)) }
        #expect(await pending.next() == .all)
        // Taken: what arrives next is news again.
        pending.add(entry(7))
        #expect(await pending.next() == entry(7))
    }

    @Test("the consumer waits for the next change instead of ending")
    func waits() async throws {
        let pending = QueueWatch.PendingChanges()
        let taking = Task { await pending.next() }
        try await eventually("the consumer is waiting for a wake-up") { pending.consumerIsWaiting }
        pending.add(entry(3))
        let deadline = Task {
            try await Task.sleep(for: .seconds(60))  // the deadline, generous for a loaded machine
            taking.cancel()
        }
        #expect(await taking.value == entry(3))
        deadline.cancel()
    }
}
