import Foundation
import Queue
import Testing

@testable import Sidecar

@Suite("Dispatch: JSON-RPC errors, negotiation, tools")
struct DispatcherTests {
    @Test("malformed bodies get the seed's codes and say what was wrong")
    func malformed() async throws {
        let sidecar = try TestSidecar()
        let cases: [(String, Int, String)] = [
            ("{not json", -32700, "parse error"),
            ("[1,2]", -32600, "batch requests are not supported"),
            ("42", -32600, "request must be a JSON object"),
            (#"{"id":1,"method":"ping"}"#, -32600, "jsonrpc field must be '2.0'"),
            (#"{"jsonrpc":"2.0","id":1}"#, -32600, "method must be a string"),
            (#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, -32600, "id must be a string or an integer"),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}"#, -32602, "params must be an object"),
            (#"{"jsonrpc":"2.0","id":1,"method":"resources/list"}"#, -32601, "method not found: resources/list"),
        ]
        for (body, code, message) in cases {
            let answer = try await sidecar.answer(body)
            #expect(answer.errorCode == code, "\(body)")
            #expect(answer.errorMessage?.contains(message) == true, "\(body): \(answer.errorMessage ?? "")")
        }
    }

    @Test("the id is echoed back, string or number")
    func echoesID() async throws {
        let sidecar = try TestSidecar()
        #expect(try await sidecar.answer(#"{"jsonrpc":"2.0","id":"a\"b","method":"ping"}"#)["id"] as? String == "a\"b")
        #expect(try await sidecar.answer(#"{"jsonrpc":"2.0","id":12,"method":"ping"}"#)["id"] as? Int == 12)
    }

    @Test(
        "initialize echoes a revision we speak, else answers our latest",
        arguments: [
            ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"),
            ("2025-11-25", "2025-11-25"), ("2099-01-01", "2025-11-25"),
        ])
    func negotiation(requested: String, negotiated: String) async throws {
        let sidecar = try TestSidecar()
        let reply = await sidecar.send(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\#(requested)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
        )
        guard case .response(let bytes, let session) = reply else { throw TestFailure("no response") }
        let result = try TestSidecar.object(bytes).result
        #expect(result?["protocolVersion"] as? String == negotiated)
        #expect((result?["serverInfo"] as? [String: Any])?["name"] as? String == "bottle-supervise")
        let sessionID = try #require(session)
        #expect(sidecar.dispatcher.sessions.revision(of: sessionID)?.rawValue == negotiated)
    }

    @Test("server/discover lists every revision, modern requests get resultType, ping is gone at 2026-07-28")
    func modern() async throws {
        let sidecar = try TestSidecar()
        let envelope =
            #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}"#
        let discover = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":\#(envelope)}}"#)
        #expect(discover.result?["supportedVersions"] as? [String] == ProtocolRevision.allNames)
        #expect(discover.result?["resultType"] as? String == "complete")
        let list = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":\#(envelope)}}"#)
        #expect(list.result?["resultType"] as? String == "complete")
        #expect((list.result?["tools"] as? [Any])?.count == 4)
        let ping = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta":\#(envelope)}}"#)
        #expect(ping.errorCode == -32601)
        let initialize = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"_meta":\#(envelope)}}"#)
        #expect(initialize.errorCode == -32600)
    }

    @Test("an envelope naming an unknown revision gets -32022 with the supported list")
    func unsupportedRevision() async throws {
        let sidecar = try TestSidecar()
        let answer = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01"}}}"#
        )
        #expect(answer.errorCode == -32022)
        let data = (answer["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["supported"] as? [String] == ProtocolRevision.allNames)
        #expect(data?["requested"] as? String == "2030-01-01")
    }

    @Test("tools/list: the seed's names, argument names and schemas; newer revisions add annotations and outputSchema")
    func toolsList() async throws {
        let sidecar = try TestSidecar()
        let latest = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, revision: "2025-11-25")
        let tools = try #require(latest.result?["tools"] as? [[String: Any]])
        #expect(
            tools.map { $0["name"] as? String } == [
                "cred-proxy-block", "pipelock-block", "capability-block", "proposal-status",
            ])
        let status = try #require(tools.last)
        #expect((status["annotations"] as? [String: Any])?["readOnlyHint"] as? Bool == true)
        #expect((status["inputSchema"] as? [String: Any])?["required"] as? [String] == ["proposal_id"])
        #expect((status["description"] as? String)?.contains("'pending'") == true)
        #expect(
            (tools.first?["description"] as? String)?.contains("call proposal-status with that proposal_id") == true)
        for (tool, argument) in zip(tools, ["routes", "allowlist", "dockerfile"]) {
            let schema = try #require(tool["inputSchema"] as? [String: Any])
            #expect(schema["required"] as? [String] == [argument, "justification"])
            #expect((tool["description"] as? String)?.contains("/etc/claude-bottle/current-config/") == true)
            #expect(tool["outputSchema"] != nil)
            #expect(tool["annotations"] != nil)
        }
        let oldest = try await sidecar.answer(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, revision: "2024-11-05")
        let oldTools = try #require(oldest.result?["tools"] as? [[String: Any]])
        #expect(oldTools.allSatisfy { $0["annotations"] == nil && $0["outputSchema"] == nil })
    }

    @Test("notifications get no answer")
    func notifications() async throws {
        let sidecar = try TestSidecar()
        guard case .accepted = await sidecar.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) else {
            Issue.record("a notification was answered")
            return
        }
    }
}
