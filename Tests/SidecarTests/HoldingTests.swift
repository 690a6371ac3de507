import Eventually
import Foundation
import Queue
import Testing

@testable import Sidecar

@Suite("Holding: validation, queueing, decisions, cancellation, retries", .timeLimit(.minutes(1)))
struct HoldingTests {
    static let routes = #"{"routes": [{"path": "/github/", "upstream": "https://api.github.com"}]}"#

    @Test("a proposed file that fails validation is refused with -32602 and nothing is queued")
    func validation() async throws {
        let sidecar = try TestSidecar()
        let answer = try await sidecar.answer(toolCall(tool: "cred-proxy-block", file: "{\"routes\": 3}"))
        #expect(answer.errorCode == -32602)
        #expect(answer.errorMessage?.hasPrefix("cred-proxy-block: ") == true)
        #expect(try sidecar.holder.queue.pending().isEmpty)
    }

    @Test("the sidecar refuses keys a folding reader takes for one, and other spellings of an address (issue 21)")
    func foldedKeysAndAddressSpellings() async throws {
        let sidecar = try TestSidecar()
        let folded = #"{"routes": [{"path": "/x/", "upstream": "https://pypi.org/", "Upstream": "https://pastebin.com/"}]}"#
        let answer = try await sidecar.answer(toolCall(tool: "cred-proxy-block", file: folded))
        #expect(answer.errorCode == -32602)
        #expect(answer.errorMessage?.contains("ignores case or Unicode width") == true, "\(answer.errorMessage ?? "")")
        let hex = try await sidecar.answer(toolCall(tool: "pipelock-block", file: "pypi.org\n0x7f.1\n"))
        #expect(hex.errorCode == -32602)
        #expect(hex.errorMessage?.contains("write 127.0.0.1") == true, "\(hex.errorMessage ?? "")")
        #expect(try sidecar.holder.queue.pending().isEmpty)
    }

    @Test("missing arguments are named")
    func arguments() async throws {
        let sidecar = try TestSidecar()
        let noFile = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pipelock-block","arguments":{"justification":"x"}}}"#
        )
        #expect(noFile.errorMessage == "pipelock-block: 'allowlist' is required and must be a string")
        let unknown = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm-rf"}}"#)
        #expect(unknown.errorCode == -32602)
        #expect(unknown.errorMessage?.contains("unknown tool 'rm-rf'") == true)
    }

    @Test("a proposal identical to the current file is refused as a no-op")
    func noOp() async throws {
        let sidecar = try TestSidecar(currentFiles: ["allowlist": "api.github.com\n"])
        let answer = try await sidecar.answer(toolCall(tool: "pipelock-block", file: "api.github.com\n"))
        #expect(answer.errorCode == -32602)
    }

    @Test("a held call is queued with the current file's hash, and answered with the operator's decision")
    func decided() async throws {
        let sidecar = try TestSidecar(currentFiles: ["routes.json": #"{"routes": []}"#])
        guard
            case .held(let call, let context) = await sidecar.send(
                toolCall(tool: "cred-proxy-block", file: Self.routes), revision: "2025-11-25")
        else {
            throw TestFailure("the call was not held")
        }
        let pending = try sidecar.holder.queue.pending()
        #expect(pending.map(\.id) == [call.proposal.id])
        #expect(pending.first?.currentFileSHA256 == SHA256Hex.of(#"{"routes": []}"#))
        let waiting = Task { await sidecar.holder.wait(call) }
        try await eventually { sidecar.holder.queue.isWaiting(call.proposal.id) }
        let final = #"{"routes": [{"path": "/github/", "upstream": "https://api.github.com", "scope": "read"}]}"#
        try sidecar.holder.queue.decide(
            Decision(id: call.proposal.id, status: .modified, notes: "read only", finalFile: final, decidedBy: "ops"))
        let outcome = await waiting.value
        let answer = try TestSidecar.object(sidecar.dispatcher.answer(outcome, to: context))
        let structured = try #require(answer.result?["structuredContent"] as? [String: Any])
        #expect(structured["status"] as? String == "modified")
        #expect(structured["notes"] as? String == "read only")
        #expect(structured["final_file"] as? String == final)
        #expect(structured["proposal_id"] as? String == call.proposal.id.rawValue)
        #expect(answer.result?["isError"] as? Bool == false)
        guard case .decided(_, let proposal) = outcome else { throw TestFailure("not decided") }
        await sidecar.holder.delivered(proposal)
        #expect(try sidecar.holder.queue.all().first?.archived == true)
    }

    @Test("a rejection is an error result")
    func rejected() async throws {
        let sidecar = try TestSidecar()
        guard
            case .held(let call, let context) = await sidecar.send(
                toolCall(tool: "pipelock-block", file: "example.com\n"))
        else {
            throw TestFailure("the call was not held")
        }
        try sidecar.holder.queue.decide(
            Decision(id: call.proposal.id, status: .rejected, notes: "no", decidedBy: "ops"))
        let answer = try TestSidecar.object(sidecar.dispatcher.answer(await sidecar.holder.wait(call), to: context))
        #expect(answer.result?["isError"] as? Bool == true)
    }

    @Test("notifications/cancelled withdraws nothing: the proposal stays decidable, marked as no longer awaited")
    func cancellation() async throws {
        let sidecar = try TestSidecar()
        guard
            case .held(let call, _) = await sidecar.send(
                toolCall(id: 41, tool: "pipelock-block", file: "example.com\n"), session: "s1")
        else { throw TestFailure("the call was not held") }
        let waiting = Task { await sidecar.holder.wait(call) }
        try await eventually { sidecar.holder.heldCount == 1 }
        let before = Date().addingTimeInterval(-1)
        _ = await sidecar.send(
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":41}}"#, session: "s1")
        guard case .cancelled(let proposal) = await waiting.value else { throw TestFailure("not cancelled") }
        #expect(proposal.id == call.proposal.id)
        let entry = try #require(try sidecar.holder.queue.all().first)
        #expect(entry.decision == nil)
        #expect(!entry.waiting)
        let stopped = try #require(entry.stoppedWaitingAt)
        #expect(stopped >= before && stopped <= Date().addingTimeInterval(1))
        // The operator's approval after the cancel is accepted and reaches the agent's status check.
        try sidecar.holder.queue.decide(Decision(id: call.proposal.id, status: .approved, decidedBy: "ops"))
        let answer = try await sidecar.answer(statusCall(call.proposal.id.rawValue), revision: "2025-11-25")
        #expect((answer.result?["structuredContent"] as? [String: Any])?["status"] as? String == "approved")
        #expect(try sidecar.holder.queue.all().first?.archived == true)
    }

    @Test("a retry after an approval gets the approval, though the approved file is now the current one")
    func retryAfterApproval() async throws {
        let sidecar = try TestSidecar()
        let request = toolCall(tool: "pipelock-block", file: "example.com\n")
        guard case .held(let first, _) = await sidecar.send(request) else { throw TestFailure("not held") }
        first.interrupt(.disconnected)
        guard case .disconnected = await sidecar.holder.wait(first) else { throw TestFailure("not disconnected") }
        try sidecar.holder.queue.decide(Decision(id: first.proposal.id, status: .approved, decidedBy: "ops"))
        // The console applied it: the proposed file is now the bottle's current file (a no-op if queued anew).
        try Data("example.com\n".utf8).write(to: URL(fileURLWithPath: sidecar.root + "/current/allowlist"))
        let answer = try await sidecar.answer(request, revision: "2025-11-25")
        let structured = try #require(answer.result?["structuredContent"] as? [String: Any])
        #expect(structured["status"] as? String == "approved")
        #expect(structured["proposal_id"] as? String == first.proposal.id.rawValue)
    }

    @Test("the hold limit answers 'pending' with the proposal id; proposal-status then returns the decision")
    func holdLimit() async throws {
        // 1 s, not less: the last step decides while a status call is held, and on a
        // loaded machine more than 100 ms can pass between holding it and deciding.
        let sidecar = try TestSidecar(holdLimit: .seconds(1))
        guard
            case .held(let call, let context) = await sidecar.send(
                toolCall(tool: "pipelock-block", file: "example.com\n"), revision: "2025-11-25")
        else { throw TestFailure("not held") }
        let outcome = await sidecar.holder.wait(call)
        guard case .pending = outcome else { throw TestFailure("not answered pending: \(outcome)") }
        let pending = try TestSidecar.object(sidecar.dispatcher.answer(outcome, to: context))
        let structured = try #require(pending.result?["structuredContent"] as? [String: Any])
        #expect(structured["status"] as? String == "pending")
        #expect(structured["proposal_id"] as? String == call.proposal.id.rawValue)
        #expect(pending.result?["isError"] as? Bool == false)
        let text = try #require(((pending.result?["content"] as? [[String: Any]])?.first)?["text"] as? String)
        #expect(text.contains("call proposal-status with proposal_id \"\(call.proposal.id)\""))
        #expect(try sidecar.holder.queue.all().first?.stoppedWaitingAt != nil)

        // Still undecided: proposal-status holds again and answers pending again.
        guard
            case .held(let again, let againContext) = await sidecar.send(
                statusCall(call.proposal.id.rawValue), revision: "2025-11-25")
        else { throw TestFailure("status not held") }
        #expect(sidecar.holder.queue.isWaiting(call.proposal.id))
        #expect(try sidecar.holder.queue.all().first?.stoppedWaitingAt == nil)
        guard case .pending = await sidecar.holder.wait(again) else { throw TestFailure("not pending again") }

        // Decided while a status call is held: the answer has the original call's shape.
        guard
            case .held(let third, _) = await sidecar.send(statusCall(call.proposal.id.rawValue), revision: "2025-11-25")
        else { throw TestFailure("status not held") }
        let waiting = Task { await sidecar.holder.wait(third) }
        try sidecar.holder.queue.decide(
            Decision(id: call.proposal.id, status: .rejected, notes: "use the mirror", decidedBy: "ops"))
        let decided = try TestSidecar.object(sidecar.dispatcher.answer(await waiting.value, to: againContext))
        let final = try #require(decided.result?["structuredContent"] as? [String: Any])
        #expect(final["status"] as? String == "rejected")
        #expect(final["notes"] as? String == "use the mirror")
        #expect(decided.result?["isError"] as? Bool == true)
    }

    @Test("one shared deadline queue ends many held calls at the limit; a decision before it wins")
    func holdLimitMany() async throws {
        let sidecar = try TestSidecar(holdLimit: .seconds(2))
        var held: [HeldCall] = []
        for index in 0..<20 {
            guard
                case .held(let call, _) = await sidecar.send(
                    toolCall(id: index, tool: "pipelock-block", file: "host\(index).example.com\n"))
            else { throw TestFailure("call \(index) not held") }
            held.append(call)
        }
        let outcomes = held.map { call in Task { await sidecar.holder.wait(call) } }
        try sidecar.holder.queue.decide(Decision(id: held[0].proposal.id, status: .approved, decidedBy: "ops"))
        guard case .decided = await outcomes[0].value else { throw TestFailure("the decided call was not decided") }
        for outcome in outcomes.dropFirst() {
            guard case .pending = await outcome.value else { throw TestFailure("a call outlived the hold limit") }
        }
        #expect(try sidecar.holder.queue.pending().count == 19)
    }

    @Test("proposal-status with a malformed or unknown id tells the model what to fix, as an isError result")
    func statusErrors() async throws {
        let sidecar = try TestSidecar()
        let malformed = try await sidecar.answer(statusCall("../../etc/passwd"), revision: "2025-11-25")
        #expect(malformed.result?["isError"] as? Bool == true)
        #expect(resultText(malformed)?.contains("must be a proposal id such as") == true)
        let unknown = try await sidecar.answer(statusCall("20261125-024900-3fa9c2d1e4b7"), revision: "2025-11-25")
        #expect(resultText(unknown)?.contains("there is no proposal 20261125-024900-3fa9c2d1e4b7") == true)
        let old = try await sidecar.answer(statusCall("nope"), revision: "2025-06-18")
        #expect(old.errorCode == -32602)
    }

    @Test("invalid tool input is an isError result from 2025-11-25 on, with the validator's message once prefixed")
    func invalidInputResult() async throws {
        let sidecar = try TestSidecar()
        let modern = try await sidecar.answer(
            toolCall(tool: "pipelock-block", file: "exa mple.com\n"), revision: "2025-11-25")
        #expect(modern.result?["isError"] as? Bool == true)
        let text = try #require(resultText(modern))
        #expect(text.hasPrefix("pipelock-block: "))
        #expect(!text.contains("pipelock-block: pipelock-block:"))
        let old = try await sidecar.answer(toolCall(tool: "pipelock-block", file: "exa mple.com\n"))
        #expect(old.errorCode == -32602)
        #expect(old.errorMessage?.contains("pipelock-block: pipelock-block:") == false)
        #expect(try sidecar.holder.queue.pending().isEmpty)
    }

    @Test("a justification over the host's 64 KiB limit is refused to the agent, not queued for a host that would refuse it")
    func oversizedJustification() async throws {
        let sidecar = try TestSidecar()
        let limit = Proposal.maximumJustificationSize
        let tooLong = toolCall(
            tool: "pipelock-block", file: "example.com\n", justification: String(repeating: "é", count: limit / 2 + 1))
        let answer = try await sidecar.answer(tooLong, revision: "2025-11-25")
        #expect(answer.result?["isError"] as? Bool == true)
        #expect(resultText(answer)?.contains("'justification' is \(limit + 2) bytes; the limit is \(limit)") == true)
        #expect(try sidecar.holder.queue.pending().isEmpty)
        let atLimit = toolCall(
            tool: "pipelock-block", file: "example.com\n", justification: String(repeating: "a", count: limit))
        guard case .held = await sidecar.send(atLimit) else { throw TestFailure("a justification at the limit was not held") }
        #expect(try sidecar.holder.queue.pending().count == 1)
    }

    @Test("a dropped call keeps its proposal; the retry re-attaches, and gets a decision made meanwhile at once")
    func retry() async throws {
        let sidecar = try TestSidecar()
        let request = toolCall(tool: "pipelock-block", file: "example.com\n")
        guard case .held(let first, _) = await sidecar.send(request) else { throw TestFailure("not held") }
        let waiting = Task { await sidecar.holder.wait(first) }
        try await eventually("the call is held") { sidecar.holder.heldCount == 1 }
        first.interrupt(.disconnected)
        guard case .disconnected = await waiting.value else { throw TestFailure("not disconnected") }
        #expect(!sidecar.holder.queue.isWaiting(first.proposal.id))
        #expect(try sidecar.holder.queue.pending().map(\.id) == [first.proposal.id])
        #expect(try sidecar.holder.queue.all().first?.stoppedWaitingAt != nil)

        guard case .held(let second, _) = await sidecar.send(request) else { throw TestFailure("retry not held") }
        #expect(second.proposal.id == first.proposal.id)

        try sidecar.holder.queue.decide(Decision(id: first.proposal.id, status: .approved, decidedBy: "ops"))
        let answer = try await sidecar.answer(request, revision: "2025-11-25")
        #expect((answer.result?["structuredContent"] as? [String: Any])?["status"] as? String == "approved")
        #expect(try sidecar.holder.queue.all().first?.archived == true)
    }

    @Test("shutdown ends held calls with 'sidecar restarting' and keeps the proposal")
    func shutdown() async throws {
        let sidecar = try TestSidecar()
        guard
            case .held(let call, let context) = await sidecar.send(
                toolCall(tool: "pipelock-block", file: "example.com\n"))
        else {
            throw TestFailure("not held")
        }
        let waiting = Task { await sidecar.holder.wait(call) }
        try await eventually("the call is held") { sidecar.holder.heldCount == 1 }
        sidecar.holder.shutdown()
        let answer = try TestSidecar.object(sidecar.dispatcher.answer(await waiting.value, to: context))
        #expect(answer.errorMessage?.contains("sidecar restarting") == true)
        #expect(try sidecar.holder.queue.pending().count == 1)
    }
}

/// A `proposal-status` call for `id`.
func statusCall(_ id: String, requestID: Int = 9) -> String {
    #"{"jsonrpc":"2.0","id":\#(requestID),"method":"tools/call","params":{"name":"proposal-status","arguments":{"proposal_id":"\#(id)"}}}"#
}

/// The text content of a tool result.
func resultText(_ response: [String: Any]) -> String? {
    ((response.result?["content"] as? [[String: Any]])?.first)?["text"] as? String
}
