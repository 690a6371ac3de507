import Foundation
import Queue
import Testing

@testable import Fleet

/// The relay's pure parts: what it does with a claim given the host's own queue entry, and how
/// long it waits before trying the database again.
@Suite("Relay: claims against the host's queue, and the backoff")
struct RelayDecisionTests {
    static let id = ProposalID.generate(at: Date(timeIntervalSince1970: 1_800_000_000))

    static func entry(decision: Decision? = nil, archived: Bool = false, digest: String = String(repeating: "a", count: 64))
        throws -> QueueEntry
    {
        let proposal = Proposal(
            id: id, bottle: try BottleSlug("web"), tool: .pipelockBlock, proposedFile: "api.github.com\n",
            justification: "needs it", currentFileSHA256: nil)
        return QueueEntry(proposal: proposal, decision: decision, waiting: true, archived: archived, proposalSHA256: digest)
    }

    static let digest = String(repeating: "a", count: 64)

    @Test("pending, same bytes: applied")
    func pendingIsApplied() throws {
        #expect(
            ClaimVerdict.of(status: .approved, decidedBy: "alice", proposalSHA256: Self.digest, entry: try Self.entry(), host: "a")
                == .apply)
    }

    @Test("the bytes changed since the operator reviewed them: refused, naming the reviewer")
    func changedIsRefused() throws {
        let verdict = ClaimVerdict.of(
            status: .approved, decidedBy: "alice", proposalSHA256: String(repeating: "b", count: 64),
            entry: try Self.entry(), host: "a")
        guard case .refused(let reason) = verdict else { Issue.record("\(verdict)"); return }
        #expect(reason.contains("changed since alice reviewed it"), "\(reason)")
    }

    @Test("the queue's own decision is this claim (a relay killed before recording it): delivered, not applied again")
    func ownApplyIsDelivered() throws {
        let local = Decision(id: Self.id, status: .approved, decidedBy: "alice", proposalSHA256: Self.digest)
        let verdict = ClaimVerdict.of(
            status: .approved, decidedBy: "alice", proposalSHA256: Self.digest, entry: try Self.entry(decision: local),
            host: "a")
        #expect(verdict == .delivered(local))
    }

    @Test("another decision made on the host first: it stands, the claim is superseded")
    func hostDecisionSupersedes() throws {
        let local = Decision(id: Self.id, status: .rejected, notes: "no", decidedBy: "bob", proposalSHA256: Self.digest)
        let verdict = ClaimVerdict.of(
            status: .approved, decidedBy: "alice", proposalSHA256: Self.digest, entry: try Self.entry(decision: local),
            host: "a")
        #expect(verdict == .superseded(local))
    }

    @Test("withdrawn (archived undecided) or gone: refused")
    func goneIsRefused() throws {
        for entry in [try Self.entry(archived: true), nil] {
            let verdict = ClaimVerdict.of(
                status: .rejected, decidedBy: "alice", proposalSHA256: Self.digest, entry: entry, host: "a")
            guard case .refused = verdict else { Issue.record("\(verdict)"); continue }
        }
    }

    @Test("the backoff: 1 s doubling to 30 s, back to 1 s once caught up")
    func backoff() {
        var backoff = RelayBackoff()
        let waits = (0..<7).map { _ in backoff.delay() }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30)])
        backoff.reset()
        #expect(backoff.delay() == .seconds(1))
    }
}
