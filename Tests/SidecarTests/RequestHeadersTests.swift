import NIOHTTP1
import Testing

@testable import Sidecar

@Suite("Request headers")
struct RequestHeadersTests {
    @Test("names match in any case; the first of a repeated header counts")
    func names() {
        let headers = RequestHeaders(
            HTTPHeaders([
                ("HOST", "127.0.0.1:8080"), ("origin", "http://localhost:3000"), ("Origin", "http://evil.example"),
                ("mcp-SESSION-id", "s1"), ("MCP-Protocol-Version", "2025-06-18"), ("Content-Length", "42"),
                ("content-length", "7"), ("EXPECT", "100-Continue"),
            ]))
        #expect(headers.host == "127.0.0.1:8080")
        #expect(headers.origin == "http://localhost:3000")
        #expect(headers.session == "s1")
        #expect(headers.protocolVersion == "2025-06-18")
        #expect(headers.contentLength == 42)
        #expect(headers.expectsContinue)
        #expect(!headers.acceptsEventStream)
    }

    @Test("the mirrored MCP headers are read; a routing header sent twice is recorded, an Origin sent twice is not")
    func mirroredHeaders() {
        let headers = RequestHeaders(
            HTTPHeaders([
                ("mcp-method", "tools/call"), ("MCP-NAME", "pipelock-block"), ("Mcp-Method", "tools/list"),
                ("Origin", "http://a"), ("Origin", "http://b"),
            ]))
        #expect(headers.method == "tools/call")
        #expect(headers.name == "pipelock-block")
        #expect(headers.repeated == "mcp-method")
        #expect(RequestHeaders(HTTPHeaders([("Host", "a"), ("host", "b")])).repeated == "host")
        // A repeated Host is never hidden behind another repeated header (the responder refuses it on every route).
        let both = RequestHeaders(
            HTTPHeaders([
                ("MCP-Protocol-Version", "2025-06-18"), ("MCP-Protocol-Version", "2025-06-18"), ("Host", "localhost"),
                ("Host", "evil.example"),
            ]))
        #expect(both.repeated == "host" && both.host == "localhost")
        #expect(RequestHeaders(HTTPHeaders([("Host", "a"), ("Origin", "x"), ("Origin", "y")])).repeated == nil)
    }

    @Test("an event stream is accepted when any Accept header lists it")
    func accept() {
        #expect(
            RequestHeaders(HTTPHeaders([("Accept", "application/json"), ("accept", "text/event-stream;q=0.9")]))
                .acceptsEventStream)
        #expect(RequestHeaders(HTTPHeaders([("Accept", "application/json, text/event-stream")])).acceptsEventStream)
        #expect(!RequestHeaders(HTTPHeaders([("Accept", "text/event")])).acceptsEventStream)
        #expect(!RequestHeaders(HTTPHeaders([("Accept-Encoding", "text/event-stream")])).acceptsEventStream)
    }

    @Test("a malformed Content-Length is no length; other expectations are not 100-continue")
    func malformed() {
        let headers = RequestHeaders(HTTPHeaders([("Content-Length", "lots"), ("Expect", "something-else")]))
        #expect(headers.contentLength == nil)
        #expect(!headers.expectsContinue)
    }
}
