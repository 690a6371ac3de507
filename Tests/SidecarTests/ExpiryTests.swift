import Foundation
import Logging
import Queue
import Testing

@testable import Sidecar

@Suite("Expiry: --expire-after decides 'expired' at the deadline")
struct ExpiryTests {
    @Test("a proposal past its deadline is expired by the sidecar, and the held call gets an error result")
    func expires() async throws {
        let sidecar = try TestSidecar(expireAfter: .seconds(60))
        guard
            case .held(let call, let context) = await sidecar.send(
                toolCall(tool: "pipelock-block", file: "example.com\n"), revision: "2025-11-25")
        else { throw TestFailure("the call was not held") }
        let deadline = try #require(call.proposal.expiresAt)
        #expect(abs(deadline.timeIntervalSince(call.proposal.createdAt) - 60) < 1)

        let expiry = ProposalExpiry(queue: sidecar.holder.queue, logger: Logger(label: "test"))
        #expect(expiry.sweep(now: Date()).isEmpty)
        let waiting = Task { await sidecar.holder.wait(call) }
        #expect(expiry.sweep(now: deadline.addingTimeInterval(1)) == [call.proposal.id])

        let answer = try TestSidecar.object(sidecar.dispatcher.answer(await waiting.value, to: context))
        let structured = try #require(answer.result?["structuredContent"] as? [String: Any])
        #expect(structured["status"] as? String == "expired")
        #expect(answer.result?["isError"] as? Bool == true)
        let decision = try #require(try sidecar.holder.queue.decision(call.proposal.id))
        #expect(decision.decidedBy == "sidecar")
    }

    @Test("the operator's decision before the deadline stands")
    func operatorFirst() async throws {
        let sidecar = try TestSidecar(expireAfter: .seconds(1))
        guard case .held(let call, _) = await sidecar.send(toolCall(tool: "pipelock-block", file: "example.com\n"))
        else { throw TestFailure("the call was not held") }
        try sidecar.holder.queue.decide(Decision(id: call.proposal.id, status: .approved, decidedBy: "ops"))
        let expiry = ProposalExpiry(queue: sidecar.holder.queue, logger: Logger(label: "test"))
        #expect(expiry.sweep(now: Date().addingTimeInterval(3600)).isEmpty)
        #expect(try sidecar.holder.queue.decision(call.proposal.id)?.status == .approved)
    }

    @Test("an operator's extension (<id>.extended, from the web page) moves the deadline, at most a day")
    func extended() async throws {
        // Ten minutes: the extension is refused once the deadline has passed, and it must not
        // pass while the test runs, even on a loaded machine.
        let sidecar = try TestSidecar(expireAfter: .seconds(600))
        guard case .held(let call, _) = await sidecar.send(toolCall(tool: "pipelock-block", file: "example.com\n"))
        else { throw TestFailure("the call was not held") }
        let queue = sidecar.holder.queue
        let deadline = try #require(call.proposal.expiresAt)
        let extended = try queue.extendDeadline(of: call.proposal, by: 3600)
        let expiry = ProposalExpiry(queue: queue, logger: Logger(label: "test"))
        #expect(expiry.sweep(now: deadline.addingTimeInterval(1)).isEmpty)
        #expect(try queue.decision(call.proposal.id) == nil)
        #expect(expiry.sweep(now: extended.addingTimeInterval(1)) == [call.proposal.id])
        #expect(try queue.decision(call.proposal.id)?.status == .expired)
    }

    @Test("without --expire-after a proposal has no deadline")
    func noDeadline() async throws {
        let sidecar = try TestSidecar()
        guard case .held(let call, _) = await sidecar.send(toolCall(tool: "pipelock-block", file: "example.com\n"))
        else { throw TestFailure("the call was not held") }
        #expect(call.proposal.expiresAt == nil)
    }
}
