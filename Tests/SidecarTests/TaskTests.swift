import Eventually
import Foundation
import Queue
import Testing

@testable import Sidecar

/// Proposals as MCP tasks: the 2025-11-25 core tasks and the 2026-07-28
/// extension, every answer derived from the queue files.
@Suite("Tasks: a proposal as an MCP task, in both flavours", .timeLimit(.minutes(1)))
struct TaskTests {
    static let envelope =
        #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}"#
    static let bareEnvelope =
        #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    static func request(_ id: Int, _ method: String, _ params: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
    }

    /// Sends and, when the request is held (tasks/result), waits for its outcome.
    static func exchange(_ sidecar: TestSidecar, _ json: String, revision: String? = nil) async throws -> [String: Any]
    {
        switch await sidecar.send(json, revision: revision) {
        case .response(let bytes, _): return try TestSidecar.object(bytes)
        case .held(let call, let context):
            return try TestSidecar.object(sidecar.dispatcher.answer(await sidecar.holder.wait(call), to: context))
        case .accepted: throw TestFailure("no answer to \(json)")
        }
    }

    @Test("2025-11-25: tools/call with params.task creates a task; get, list, result; the id is the proposal id")
    func core() async throws {
        let sidecar = try TestSidecar()
        let initialize = try await sidecar.answer(
            Self.request(
                1, "initialize",
                #"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}"#))
        #expect((initialize.result?["capabilities"] as? [String: Any])?["tasks"] != nil)
        let list = try await sidecar.answer(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, revision: "2025-11-25")
        let tools = try #require(list.result?["tools"] as? [[String: Any]])
        #expect((tools.first?["execution"] as? [String: Any])?["taskSupport"] as? String == "optional")

        var call = toolCall(id: 3, tool: "pipelock-block", file: "example.com\n")
        call = call.replacingOccurrences(
            of: #""justification":"needed for the build"}"#,
            with: #""justification":"needed for the build"},"task":{"ttl":60000}"#)
        let created = try await Self.exchange(sidecar, call, revision: "2025-11-25")
        let task = try #require(created.result?["task"] as? [String: Any], "\(created)")
        let taskID = try #require(task["taskId"] as? String)
        #expect(task["status"] as? String == "working")
        #expect(try sidecar.holder.queue.pending().map(\.id.rawValue) == [taskID])
        #expect(!sidecar.holder.queue.isWaiting(try ProposalID(taskID)), "a task is polled, not held")

        let got = try await Self.exchange(
            sidecar, Self.request(4, "tasks/get", #"{"taskId":"\#(taskID)"}"#), revision: "2025-11-25")
        #expect(got.result?["status"] as? String == "working")
        #expect(got.result?["pollInterval"] as? Int == 5000)
        let listed = try await Self.exchange(sidecar, Self.request(5, "tasks/list", "{}"), revision: "2025-11-25")
        #expect((listed.result?["tasks"] as? [[String: Any]])?.map { $0["taskId"] as? String } == [taskID])

        // tasks/result waits (no hold limit) until the operator decides.
        guard
            case .held(let held, let context) = await sidecar.send(
                Self.request(6, "tasks/result", #"{"taskId":"\#(taskID)"}"#), revision: "2025-11-25")
        else { throw TestFailure("tasks/result of a working task was not held") }
        #expect(!held.bounded)
        let waiting = Task { await sidecar.holder.wait(held) }
        try await eventually { sidecar.holder.heldCount == 1 }
        try sidecar.holder.queue.decide(
            Decision(id: try ProposalID(taskID), status: .rejected, notes: "not that host", decidedBy: "ops"))
        let result = try TestSidecar.object(sidecar.dispatcher.answer(await waiting.value, to: context))
        #expect((result.result?["structuredContent"] as? [String: Any])?["notes"] as? String == "not that host")
        #expect(result.result?["isError"] as? Bool == true)
        let related = (result.result?["_meta"] as? [String: Any])?["io.modelcontextprotocol/related-task"]
        #expect((related as? [String: Any])?["taskId"] as? String == taskID)
        let after = try await Self.exchange(
            sidecar, Self.request(7, "tasks/get", #"{"taskId":"\#(taskID)"}"#), revision: "2025-11-25")
        #expect(after.result?["status"] as? String == "failed")
        let cancelFinished = try await Self.exchange(
            sidecar, Self.request(8, "tasks/cancel", #"{"taskId":"\#(taskID)"}"#), revision: "2025-11-25")
        #expect(cancelFinished.errorCode == -32602)
    }

    @Test("tasks/cancel withdraws an undecided proposal; the operator can no longer decide it")
    func cancel() async throws {
        let sidecar = try TestSidecar()
        var call = toolCall(id: 3, tool: "pipelock-block", file: "example.com\n")
        call = call.replacingOccurrences(
            of: #""justification":"needed for the build"}"#, with: #""justification":"needed for the build"},"task":{}"#
        )
        let created = try await Self.exchange(sidecar, call, revision: "2025-11-25")
        let taskID = try #require((created.result?["task"] as? [String: Any])?["taskId"] as? String)
        let cancelled = try await Self.exchange(
            sidecar, Self.request(4, "tasks/cancel", #"{"taskId":"\#(taskID)"}"#), revision: "2025-11-25")
        #expect(cancelled.result?["status"] as? String == "cancelled")
        #expect(throws: QueueError.self) {
            try sidecar.holder.queue.decide(Decision(id: try ProposalID(taskID), status: .approved, decidedBy: "ops"))
        }
    }

    @Test("2026-07-28 extension: declared in server/discover; resultType task; tasks/get inlines the result")
    func extensionTasks() async throws {
        let sidecar = try TestSidecar()
        let discover = try await sidecar.answer(
            Self.request(1, "server/discover", #"{"_meta":\#(Self.envelope)}"#))
        let extensions = (discover.result?["capabilities"] as? [String: Any])?["extensions"] as? [String: Any]
        #expect(extensions?["io.modelcontextprotocol/tasks"] != nil)

        let call = toolCall(id: 2, tool: "capability-block", file: "FROM debian:bookworm-slim\n", meta: Self.envelope)
        let created = try await Self.exchange(sidecar, call)
        #expect(created.result?["resultType"] as? String == "task", "\(created)")
        let taskID = try #require(created.result?["taskId"] as? String)
        #expect(created.result?["pollIntervalMs"] as? Int == 5000)

        let get = Self.request(3, "tasks/get", #"{"taskId":"\#(taskID)","_meta":\#(Self.envelope)}"#)
        let working = try await Self.exchange(sidecar, get)
        #expect(working.result?["status"] as? String == "working")
        #expect(working.result?["resultType"] as? String == "complete")
        let update = try await Self.exchange(
            sidecar,
            Self.request(4, "tasks/update", #"{"taskId":"\#(taskID)","inputResponses":{},"_meta":\#(Self.envelope)}"#))
        #expect(update.result?["resultType"] as? String == "complete")

        let final = "FROM debian:bookworm-slim\nRUN true\n"
        try sidecar.holder.queue.decide(
            Decision(id: try ProposalID(taskID), status: .modified, notes: "n", finalFile: final, decidedBy: "ops"))
        let completed = try await Self.exchange(sidecar, get)
        #expect(completed.result?["status"] as? String == "completed")
        let inline = try #require(completed.result?["result"] as? [String: Any])
        #expect((inline["structuredContent"] as? [String: Any])?["final_file"] as? String == final)
        // Still answerable after it was delivered (and archived).
        let again = try await Self.exchange(sidecar, get)
        #expect(again.result?["status"] as? String == "completed")
    }

    @Test("2026-07-28: task methods without the declared extension are -32021; calls are answered held, not as tasks")
    func extensionNotDeclared() async throws {
        let sidecar = try TestSidecar()
        let get = try await Self.exchange(
            sidecar,
            Self.request(1, "tasks/get", #"{"taskId":"20261125-024900-3fa9c2d1e4b7","_meta":\#(Self.bareEnvelope)}"#))
        #expect(get.errorCode == -32021)
        guard
            case .held = await sidecar.send(
                toolCall(id: 2, tool: "pipelock-block", file: "example.com\n", meta: Self.bareEnvelope))
        else { throw TestFailure("a call without the extension was not held") }
    }

    @Test("tasks/list pages 100 at a time with nextCursor, oldest first, none skipped or repeated; a bad cursor is -32602")
    func listPages() async throws {
        let sidecar = try TestSidecar()
        let base = Date(timeIntervalSince1970: 1_780_000_000)
        var made: [String] = []
        for index in 0..<205 {
            let proposal = Proposal(
                bottle: try BottleSlug("web"), tool: .pipelockBlock, proposedFile: "host\(index).example\n",
                justification: "n", currentFileSHA256: nil, createdAt: base.addingTimeInterval(Double(index)))
            _ = try await sidecar.holder.queue.submit(proposal)
            made.append(proposal.id.rawValue)
        }
        var listed: [String] = []
        var pages: [Int] = []
        var cursor: String? = nil
        for request in 1...4 {
            let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
            let page = try await Self.exchange(sidecar, Self.request(request, "tasks/list", params), revision: "2025-11-25")
            let tasks = try #require(page.result?["tasks"] as? [[String: Any]], "\(page)")
            pages.append(tasks.count)
            listed += tasks.compactMap { $0["taskId"] as? String }
            cursor = page.result?["nextCursor"] as? String
            if cursor == nil { break }
        }
        #expect(pages == [100, 100, 5])
        #expect(listed == made)
        let bad = try await Self.exchange(
            sidecar, Self.request(9, "tasks/list", #"{"cursor":"nope\u001b[2J"}"#), revision: "2025-11-25")
        #expect(bad.errorCode == -32602)
        #expect(bad.errorMessage?.contains("invalid cursor") == true)
        #expect(bad.errorMessage?.contains("\u{1B}") == false)
    }

    @Test("tasks/list reads an index: a page's cost does not grow with the archive (2,000 archived proposals)")
    func listCostIndependentOfArchive() async throws {
        let sidecar = try TestSidecar()
        let queue = sidecar.holder.queue
        try queue.prepare()
        let bottle = try BottleSlug("web")
        let base = Date(timeIntervalSince1970: 1_780_000_000)
        // Written straight into the archive (what years of decided proposals leave), unsynced for speed.
        let archive = queue.directory.string + "/archive/"
        for index in 0..<2000 {
            let proposal = Proposal(
                bottle: bottle, tool: .pipelockBlock, proposedFile: "host\(index).example\n", justification: "n",
                currentFileSHA256: nil, createdAt: base.addingTimeInterval(Double(index)))
            let decision = Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "op")
            try QueueFormat.encode(proposal).write(to: URL(fileURLWithPath: archive + "\(proposal.id).proposal.json"))
            try QueueFormat.encode(decision).write(to: URL(fileURLWithPath: archive + "\(proposal.id).decision.json"))
        }
        func page(_ cursor: String?, _ id: Int) async throws -> (ids: [String], next: String?, seconds: Double) {
            let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
            let start = ContinuousClock.now
            let answer = try await Self.exchange(sidecar, Self.request(id, "tasks/list", params), revision: "2025-11-25")
            let elapsed = ContinuousClock.now - start
            let tasks = try #require(answer.result?["tasks"] as? [[String: Any]], "\(answer)")
            return (
                tasks.compactMap { $0["taskId"] as? String }, answer.result?["nextCursor"] as? String,
                Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
            )
        }
        let first = try await page(nil, 1)  // reads the directory once
        var cursor = first.next
        var listed = first.ids
        var later: [Double] = []
        for request in 2...30 {
            guard let current = cursor else { break }
            let next = try await page(current, request)
            later.append(next.seconds)
            listed += next.ids
            cursor = next.next
        }
        #expect(listed.count == 2000)
        #expect(Set(listed).count == 2000)
        let median = later.sorted()[later.count / 2]
        print(
            "tasks/list at 2,000 archived proposals: first page \(Int(first.seconds * 1000)) ms (reads the index in), "
                + "later pages median \(Int(median * 1000)) ms")
        // A scan of the archive per page took seconds at this size; a page of 100 reads 200 small files.
        #expect(median < 0.25, "a later page took \(median) s")
        #expect(median < first.seconds, "a later page cost as much as reading the whole archive")
    }

    @Test("proposal-status (taskSupport forbidden) as a 2025-11-25 task is -32601; under the extension it is a plain call")
    func statusIsNeverATask() async throws {
        let sidecar = try TestSidecar()
        guard case .held(let held, _) = await sidecar.send(toolCall(id: 1, tool: "pipelock-block", file: "example.com\n"))
        else { throw TestFailure("not held") }
        let id = held.proposal.id.rawValue
        let asTask = statusCall(id, requestID: 2).replacingOccurrences(
            of: #""arguments":{"proposal_id":"\#(id)"}"#, with: #""arguments":{"proposal_id":"\#(id)"},"task":{"ttl":60000}"#)
        let core = try await Self.exchange(sidecar, asTask, revision: "2025-11-25")
        #expect(core.errorCode == -32601, "\(core)")
        #expect(core.errorMessage?.contains("call it without 'task'") == true)
        #expect(try sidecar.holder.queue.pending().count == 1, "nothing queued or withdrawn")

        try sidecar.holder.queue.decide(Decision(id: held.proposal.id, status: .rejected, notes: "no", decidedBy: "ops"))
        let modern = #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"proposal-status","arguments":{"proposal_id":"\#(id)"},"_meta":\#(Self.envelope)}}"#
        let plain = try await Self.exchange(sidecar, modern)
        #expect(plain.result?["resultType"] as? String != "task", "\(plain)")
        #expect((plain.result?["structuredContent"] as? [String: Any])?["status"] as? String == "rejected", "\(plain)")
    }

    @Test("unknown and malformed task ids are -32602 naming the id, escaped")
    func unknownTask() async throws {
        let sidecar = try TestSidecar()
        let unknown = try await Self.exchange(
            sidecar, Self.request(1, "tasks/get", #"{"taskId":"20261125-024900-3fa9c2d1e4b7"}"#), revision: "2025-11-25"
        )
        #expect(unknown.errorCode == -32602)
        #expect(unknown.errorMessage?.contains("20261125-024900-3fa9c2d1e4b7") == true)
        let hostile = try await Self.exchange(
            sidecar, Self.request(2, "tasks/result", #"{"taskId":"../../x\u001b[31m"}"#), revision: "2025-11-25")
        #expect(hostile.errorCode == -32602)
        #expect(hostile.errorMessage?.contains("\u{1B}") == false)
    }
}
