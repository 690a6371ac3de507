import Foundation
import Queue
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Both task flavours over real HTTP, as raw JSON-RPC written against the
/// spec pages (the Python SDK 2.3.0 has the task types but no task calls),
/// with a sidecar restart between creating a task and reading its result.
@Suite("Sidecar end to end: MCP tasks over HTTP, across a restart", .serialized)
struct SidecarTaskTests {
    static let extensionMeta =
        #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}"#

    /// POSTs one JSON-RPC request and returns its response object (from a
    /// JSON body or the last `data:` line of an event stream).
    static func post(
        _ url: String, _ body: String, revision: String, method: String, name: String? = nil
    ) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 60
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue(revision, forHTTPHeaderField: "MCP-Protocol-Version")
        request.setValue(method, forHTTPHeaderField: "Mcp-Method")
        if let name { request.setValue(name, forHTTPHeaderField: "Mcp-Name") }
        let (data, _) = try await URLSession.shared.data(for: request)
        let text = String(decoding: data, as: UTF8.self)
        let json =
            text.split(separator: "\n").last { $0.hasPrefix("data:") }.map { String($0.dropFirst(5)) } ?? text
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw E2EFailure("not a JSON-RPC response: \(text)")
        }
        return object
    }

    /// The params of a `tools/call` of `tool`, without their closing brace.
    static func proposal(_ tool: String) -> String {
        let file = String(decoding: try! JSONEncoder().encode(SidecarProtocolTests.files[tool]!), as: UTF8.self)
        let argument = Queue.Tool(rawValue: tool)!.fileArgument
        return #"{"name":"\#(tool)","arguments":{"\#(argument)":\#(file),"justification":"the build needs it"}"#
    }

    @Test("2025-11-25 core tasks: create, restart the sidecar, tasks/get, decide, tasks/result")
    func coreAcrossRestart() async throws {
        var sidecar = try SidecarProcess()
        let scratch = sidecar.scratch
        let tool = "pipelock-block"
        let created = try await Self.post(
            sidecar.url,
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":\#(Self.proposal(tool)),"task":{"ttl":600000}}}"#,
            revision: "2025-11-25", method: "tools/call", name: tool)
        let task = try #require((created["result"] as? [String: Any])?["task"] as? [String: Any], "\(created)")
        let taskID = try #require(task["taskId"] as? String)
        #expect(task["status"] as? String == "working")

        sidecar.process.terminate()
        sidecar.process.waitUntilExit()
        sidecar = try SidecarProcess(scratch: scratch)

        let get = #"{"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{"taskId":"\#(taskID)"}}"#
        let working = try await Self.post(sidecar.url, get, revision: "2025-11-25", method: "tasks/get", name: taskID)
        #expect((working["result"] as? [String: Any])?["status"] as? String == "working", "\(working)")

        try SidecarProtocolTests.decide(sidecar, taskID, .approved, notes: "after the restart")
        let result = try await Self.post(
            sidecar.url, #"{"jsonrpc":"2.0","id":3,"method":"tasks/result","params":{"taskId":"\#(taskID)"}}"#,
            revision: "2025-11-25", method: "tasks/result", name: taskID)
        let answer = try #require(result["result"] as? [String: Any], "\(result)")
        let structured = answer["structuredContent"] as? [String: Any]
        #expect(structured?["status"] as? String == "approved")
        #expect(structured?["notes"] as? String == "after the restart")
        let related = (answer["_meta"] as? [String: Any])?["io.modelcontextprotocol/related-task"] as? [String: Any]
        #expect(related?["taskId"] as? String == taskID)
        let completed = try await Self.post(sidecar.url, get, revision: "2025-11-25", method: "tasks/get", name: taskID)
        #expect((completed["result"] as? [String: Any])?["status"] as? String == "completed")
        _ = scratch
    }

    @Test("2026-07-28 extension: resultType task, restart, tasks/get until completed with the rejection inline")
    func extensionAcrossRestart() async throws {
        var sidecar = try SidecarProcess()
        let scratch = sidecar.scratch
        let tool = "cred-proxy-block"
        // `proposal` leaves the params object open for the caller's own fields.
        let params = Self.proposal(tool) + #","_meta":\#(Self.extensionMeta)}"#
        let created = try await Self.post(
            sidecar.url, #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":\#(params)}"#,
            revision: "2026-07-28", method: "tools/call", name: tool)
        let result = try #require(created["result"] as? [String: Any], "\(created)")
        #expect(result["resultType"] as? String == "task")
        let taskID = try #require(result["taskId"] as? String)

        sidecar.process.terminate()
        sidecar.process.waitUntilExit()
        sidecar = try SidecarProcess(scratch: scratch)

        let get =
            #"{"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{"taskId":"\#(taskID)","_meta":\#(Self.extensionMeta)}}"#
        let working = try await Self.post(sidecar.url, get, revision: "2026-07-28", method: "tasks/get", name: taskID)
        #expect((working["result"] as? [String: Any])?["status"] as? String == "working", "\(working)")
        try SidecarProtocolTests.decide(sidecar, taskID, .rejected, notes: "use the read-only token")
        let completed = try await Self.post(sidecar.url, get, revision: "2026-07-28", method: "tasks/get", name: taskID)
        let task = try #require(completed["result"] as? [String: Any], "\(completed)")
        #expect(task["status"] as? String == "completed")
        let inline = try #require(task["result"] as? [String: Any])
        #expect(inline["isError"] as? Bool == true)
        #expect((inline["structuredContent"] as? [String: Any])?["notes"] as? String == "use the read-only token")
        _ = scratch
    }
}
