import Foundation
import Testing

/// What the sidecar answers to requests that are not well-behaved MCP: foreign
/// origins, oversized and chunked bodies, malformed JSON-RPC, stdio.
@Suite("Sidecar end to end: HTTP safety and stdio", .serialized)
struct SidecarHTTPTests {
    @Test("a foreign Origin gets 403; a loopback Origin passes")
    func origin() throws {
        let sidecar = try SidecarProcess()
        let foreign = try PythonClient.run(["raw", sidecar.url, "--origin", "https://evil.example"])
        #expect(foreign["status"] as? Int == 403)
        let local = try PythonClient.run(["raw", sidecar.url, "--origin", "http://localhost:5173"])
        #expect(local["status"] as? Int == 200)
    }

    @Test("DNS rebinding: Host evil.com is refused with 421; the container name and --allowed-host are answered")
    func rebinding() throws {
        let sidecar = try SidecarProcess(arguments: ["--allowed-host", "agents.internal"])
        let port = String(sidecar.port)
        let rebound = try PythonClient.run([
            "raw", sidecar.url, "--header", "Host: evil.com:\(port)", "--origin", "http://evil.com:\(port)",
        ])
        #expect(rebound["status"] as? Int == 421)
        for name in ["web-supervise", "agents.internal", "localhost"] {
            let allowed = try PythonClient.run(["raw", sidecar.url, "--header", "Host: \(name):\(port)"])
            #expect(allowed["status"] as? Int == 200, "\(name)")
        }
        let crossSite = try PythonClient.run([
            "raw", sidecar.url, "--header", "Host: web-supervise:\(port)", "--origin", "http://10.9.9.9",
        ])
        #expect(crossSite["status"] as? Int == 403)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sidecar.queueDirectory).allSatisfy { !$0.hasSuffix(".proposal.json") })
    }

    @Test("2026-07-28 over HTTP: mirrored headers checked (-32020), unsupported revisions listed (-32022), ping is 404")
    func modernTransportRules() throws {
        let sidecar = try SidecarProcess()
        let meta = #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        let list = sidecar.scratch.write(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":\#(meta)}}"#, at: "list.json")
        let version = "MCP-Protocol-Version: 2026-07-28"
        func code(_ response: [String: Any]) -> Int? {
            let body = (response["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
            return ((body as? [String: Any])?["error"] as? [String: Any])?["code"] as? Int
        }
        let mismatch = try PythonClient.run([
            "raw", sidecar.url, "--body-file", list, "--header", version, "--header", "Mcp-Method: tools/call",
        ])
        #expect(mismatch["status"] as? Int == 400)
        #expect(code(mismatch) == -32020)
        let unsupported = try PythonClient.run([
            "raw", sidecar.url, "--body-file", list, "--header", "MCP-Protocol-Version: 2031-01-01",
            "--header", "Mcp-Method: tools/list",
        ])
        #expect(unsupported["status"] as? Int == 400)
        #expect(code(unsupported) == -32022)
        #expect((unsupported["body"] as? String)?.contains("2026-07-28") == true)
        let ping = sidecar.scratch.write(
            #"{"jsonrpc":"2.0","id":2,"method":"ping","params":{"_meta":\#(meta)}}"#, at: "ping.json")
        let pinged = try PythonClient.run([
            "raw", sidecar.url, "--body-file", ping, "--header", version, "--header", "Mcp-Method: ping",
        ])
        #expect(pinged["status"] as? Int == 404)
        #expect(code(pinged) == -32601)
        let listed = try PythonClient.run([
            "raw", sidecar.url, "--body-file", list, "--header", version, "--header", "Mcp-Method: tools/list",
            "--header", "Mcp-Session-Id: stale-session",
        ])
        #expect(listed["status"] as? Int == 200)
        #expect((listed["body"] as? String)?.contains("io.modelcontextprotocol/serverInfo") == true)
    }

    @Test("bodies over 1 MiB get 413, with or without Content-Length; chunked bodies are read")
    func bodyLimit() throws {
        let sidecar = try SidecarProcess()
        let big = sidecar.scratch.write(String(repeating: "x", count: 1_100_000), at: "big.json")
        #expect(try PythonClient.run(["raw", sidecar.url, "--body-file", big])["status"] as? Int == 413)
        #expect(try PythonClient.run(["raw", sidecar.url, "--body-file", big, "--chunked"])["status"] as? Int == 413)
        let ping = sidecar.scratch.write(#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#, at: "list.json")
        let chunked = try PythonClient.run(["raw", sidecar.url, "--body-file", ping, "--chunked"])
        #expect(chunked["status"] as? Int == 200)
        #expect((chunked["body"] as? String)?.contains("cred-proxy-block") == true)
    }

    @Test("malformed JSON-RPC is answered with the seed's codes")
    func malformed() throws {
        let sidecar = try SidecarProcess()
        let cases: [(String, Int)] = [
            ("{oops", -32700), (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#, -32601),
            (
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pipelock-block","arguments":{"allowlist":"bad host!","justification":"x"}}}"#,
                -32602
            ),
        ]
        for (index, (body, code)) in cases.enumerated() {
            let file = sidecar.scratch.write(body, at: "case\(index).json")
            let answer = try PythonClient.run(["raw", sidecar.url, "--body-file", file])
            let text = try #require(answer["body"] as? String)
            #expect(text.contains("\"code\":\(code)"), "\(body) → \(text)")
        }
        #expect(sidecar.pendingIDs().isEmpty)
    }

    @Test("serve --stdio with the same client", arguments: ["legacy", "auto"])
    func stdio(mode: String) throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path + "/queue", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/current", withIntermediateDirectories: true)
        let command = [
            BuiltBinary.path, "serve", "--stdio", "--slug", "web", "--queue-dir", scratch.path + "/queue",
            "--current-config", scratch.path + "/current",
        ].joined(separator: " ")
        let listed = try PythonClient.run(["list", "stdio:" + command, mode])
        #expect((listed["tools"] as? [Any])?.count == 4, "the three proposal tools and proposal-status")
        let file = scratch.write("api.github.com\n", at: "allowlist")
        let run = try PythonClient.Run(["call", "stdio:" + command, mode, "pipelock-block", file])
        var id: String?
        let deadline = Date().addingTimeInterval(15)
        while id == nil, Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path + "/queue")) ?? []
            id = names.first { $0.hasSuffix(".proposal.json") }.map { String($0.dropLast(".proposal.json".count)) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let proposal = try #require(id)
        try SidecarProtocolTests.decideIn(scratch.path + "/queue", proposal, .approved)
        let answer = try run.finish()
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")
    }
}
