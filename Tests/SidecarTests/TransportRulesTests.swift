import NIOHTTP1
import Queue
import Testing

@testable import Sidecar

@Suite("2026-07-28 transport rules")
struct TransportRulesTests {
    static let meta = #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    func message(_ json: String) throws -> RPCMessage {
        try RPCMessage.decode(Array(json.utf8)).get()
    }

    func modernCall(tool: String = "pipelock-block", version: String = "2026-07-28") throws -> RPCMessage {
        try message(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"\#(version)"}}}"#
        )
    }

    func headers(_ fields: [(String, String)]) -> RequestHeaders { RequestHeaders(HTTPHeaders(fields)) }

    let complete = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "pipelock-block")]

    @Test("a 2026-07-28 request with matching headers passes")
    func matching() throws {
        #expect(TransportRules.check(headers(complete), try modernCall()) == nil)
    }

    @Test("Mcp-Method absent or different from the body: 400 with -32020")
    func method() throws {
        for fields in [
            [complete[0], complete[2]], [complete[0], ("Mcp-Method", "tools/list"), complete[2]],
        ] {
            let refusal = try #require(TransportRules.check(headers(fields), try modernCall()))
            #expect(refusal.status == .badRequest)
            #expect(refusal.error.code == -32020)
            #expect(refusal.error.message.contains("Mcp-Method"))
        }
    }

    @Test("Mcp-Name absent or naming another tool: 400 with -32020; the base64 form is decoded")
    func name() throws {
        let absent = try #require(TransportRules.check(headers([complete[0], complete[1]]), try modernCall()))
        #expect(absent.error.code == -32020)
        let other = try #require(
            TransportRules.check(headers([complete[0], complete[1], ("Mcp-Name", "capability-block")]), try modernCall()))
        #expect(other.error.code == -32020)
        #expect(other.error.message.contains("capability-block"))
        let encoded = [complete[0], complete[1], ("Mcp-Name", "=?base64?cGlwZWxvY2stYmxvY2s=?=")]
        #expect(TransportRules.check(headers(encoded), try modernCall()) == nil)
        let corrupt = [complete[0], complete[1], ("Mcp-Name", "=?base64?cGlwZWxvY2stYmxvY2s?=")]
        #expect(TransportRules.check(headers(corrupt), try modernCall())?.error.code == -32020)
    }

    @Test("MCP-Protocol-Version absent or different from _meta: -32020; a repeated routing header too")
    func versionHeader() throws {
        #expect(TransportRules.check(headers([complete[1], complete[2]]), try modernCall())?.error.code == -32020)
        let differing = [("MCP-Protocol-Version", "2025-11-25"), complete[1], complete[2]]
        #expect(TransportRules.check(headers(differing), try modernCall())?.error.code == -32020)
        let repeated = complete + [("mcp-method", "tools/call")]
        #expect(TransportRules.check(headers(repeated), try modernCall())?.error.message.contains("more than once") == true)
    }

    @Test("an unsupported revision in the header or in _meta: 400 with -32022 and the supported list")
    func unsupported() throws {
        let header = try #require(
            TransportRules.check(
                headers([("MCP-Protocol-Version", "2099-01-01"), complete[1], complete[2]]), try modernCall()))
        #expect(header.status == .badRequest)
        #expect(header.error.code == -32022)
        guard case .array(let supported)? = header.error.data?["supported"] else {
            Issue.record("no supported list")
            return
        }
        #expect(supported.contains(.string("2026-07-28")))
        let envelope = try #require(
            TransportRules.check(
                headers([("MCP-Protocol-Version", "2099-01-01"), complete[1], complete[2]]),
                try modernCall(version: "2099-01-01")))
        #expect(envelope.error.code == -32022)
        let handshakeInMeta = try #require(
            TransportRules.check(
                headers([("MCP-Protocol-Version", "2025-06-18"), complete[1], complete[2]]),
                try modernCall(version: "2025-06-18")))
        #expect(handshakeInMeta.error.code == -32022)
    }

    @Test("before 2026-07-28 the mirrored headers are optional, but checked when sent")
    func handshakeEra() throws {
        let call = try message(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pipelock-block","arguments":{}}}"#)
        #expect(TransportRules.check(headers([("MCP-Protocol-Version", "2025-06-18")]), call) == nil)
        #expect(TransportRules.check(headers([("Mcp-Method", "tools/call")]), call) == nil)
        #expect(TransportRules.check(headers([("Mcp-Method", "tools/list")]), call)?.error.code == -32020)
        #expect(TransportRules.check(headers([("Mcp-Name", "capability-block")]), call)?.error.code == -32020)
        // A modern header with a body that has no envelope contradicts itself.
        #expect(TransportRules.check(headers([("MCP-Protocol-Version", "2026-07-28")]), call)?.error.code == -32020)
    }
}
