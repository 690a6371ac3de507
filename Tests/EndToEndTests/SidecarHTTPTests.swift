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
