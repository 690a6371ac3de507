import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Queue
import Testing

@testable import Sidecar

/// The connection handler driven through `EmbeddedChannel` (requests that
/// are answered on the event loop) and `NIOAsyncTestingChannel` (held calls,
/// whose admission and decision come from tasks), with a manual clock moved
/// in step with the channel's virtual time.
@Suite("Sidecar connection handler")
struct SidecarConnectionTests {
    static let modernMeta =
        #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
    static let modernHeaders = [("MCP-Protocol-Version", "2026-07-28")]

    let sidecar: TestSidecar
    let clock = ManualClock()

    init() throws { sidecar = try TestSidecar() }

    func settings() -> SidecarConnection<ManualClock>.Settings {
        sidecar.connectionSettings(hosts: HostAllowList(bindAddress: "0.0.0.0", extra: ["web-supervise"]))
    }

    func embedded() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: SidecarConnection(settings: settings(), clock: clock))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// A response read back from the channel.
    struct Response {
        var head: HTTPResponseHead
        var body: String
        var ended: Bool
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
        func header(_ name: String) -> String? { head.headers.first(name: name) }
    }

    static func request(
        _ method: HTTPMethod = .POST, _ uri: String = "/mcp", body: String = "", host: String? = "127.0.0.1:9100",
        headers: [(String, String)] = [], keepAlive: Bool = true
    ) -> [HTTPServerRequestPart] {
        var fields = HTTPHeaders(headers)
        if let host { fields.add(name: "Host", value: host) }
        fields.add(name: "Content-Length", value: String(body.utf8.count))
        if !keepAlive { fields.add(name: "Connection", value: "close") }
        var parts: [HTTPServerRequestPart] = [
            .head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields))
        ]
        if !body.isEmpty { parts.append(.body(ByteBuffer(string: body))) }
        parts.append(.end(nil))
        return parts
    }

    func send(_ parts: [HTTPServerRequestPart], to channel: EmbeddedChannel) throws -> Response {
        for part in parts { try channel.writeInbound(part) }
        return try #require(try Self.response(from: channel))
    }

    static func response(from channel: EmbeddedChannel) throws -> Response? {
        var response: Response?
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .head(let head) where head.status != .continue: response = Response(head: head, body: "", ended: false)
            case .head: break
            case .body(.byteBuffer(let buffer)): response?.body += String(buffer: buffer)
            case .body: break
            case .end: response?.ended = true
            }
        }
        return response
    }

    // MARK: - DNS rebinding

    @Test("a rebinding request (Host: evil.com:P, Origin: http://evil.com:P) is refused with 421 and queues nothing")
    func rebindingRefused() throws {
        let channel = try embedded()
        let response = try send(
            Self.request(
                body: toolCall(tool: "pipelock-block", file: "example.com\n"), host: "evil.com:9100",
                headers: [("Origin", "http://evil.com:9100")]), to: channel)
        #expect(response.head.status == .misdirectedRequest)
        #expect(response.body.contains("evil.com"))
        #expect(try sidecar.holder.queue.all().isEmpty)
        let health = try send(Self.request(.GET, "/health", host: "evil.com:9100"), to: channel)
        #expect(health.head.status == .misdirectedRequest)
    }

    @Test("a foreign Origin on an allowed Host gets 403; allowed names and IP addresses get answers")
    func originAndAllowedHosts() throws {
        let channel = try embedded()
        let foreign = try send(
            Self.request(
                body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, host: "web-supervise:9100",
                headers: [("Origin", "https://evil.example")]), to: channel)
        #expect(foreign.head.status == .forbidden)
        for host in ["web-supervise:9100", "localhost:9100", "10.88.0.7:9100"] {
            #expect(try send(Self.request(.GET, "/health", host: host), to: channel).head.status == .ok)
        }
        #expect(try send(Self.request(.GET, "/health", host: nil), to: channel).head.status == .misdirectedRequest)
    }

    @Test("a refused Host full of escape sequences is echoed escaped, never raw")
    func escapedHost() throws {
        let channel = try embedded()
        let response = try send(Self.request(.GET, "/health", host: "evil\u{1B}]0;owned\u{07}.com"), to: channel)
        #expect(response.head.status == .misdirectedRequest)
        #expect(!response.body.contains("\u{1B}"))
        #expect(!response.body.contains("\u{07}"))
    }

    @Test("an accepted Host is remembered per connection, but a later rebinding request on it is still refused")
    func hostCheckedPerRequest() throws {
        let channel = try embedded()
        #expect(try send(Self.request(.GET, "/health", host: "localhost:9100"), to: channel).head.status == .ok)
        #expect(try send(Self.request(.GET, "/health", host: "evil.com:9100"), to: channel).head.status == .misdirectedRequest)
        let origin = try send(
            Self.request(.GET, "/health", host: "localhost:9100", headers: [("Origin", "http://evil.com")]), to: channel)
        #expect(origin.head.status == .forbidden)
    }

    // MARK: - 2026-07-28 rules

    @Test("a 2026-07-28 request without Mcp-Method gets 400 with -32020; with it, a result carrying serverInfo")
    func mirroredHeaders() throws {
        let channel = try embedded()
        let body = #"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":\#(Self.modernMeta)}}"#
        let missing = try send(Self.request(body: body, headers: Self.modernHeaders), to: channel)
        #expect(missing.head.status == .badRequest)
        #expect(missing.json?.errorCode == -32020)
        let wrong = try send(
            Self.request(body: body, headers: Self.modernHeaders + [("Mcp-Method", "tools/call")]), to: channel)
        #expect(wrong.json?.errorCode == -32020)
        let good = try send(
            Self.request(body: body, headers: Self.modernHeaders + [("Mcp-Method", "tools/list")]), to: channel)
        #expect(good.head.status == .ok)
        let meta = good.json?.result?["_meta"] as? [String: Any]
        let info = meta?["io.modelcontextprotocol/serverInfo"] as? [String: Any]
        #expect(info?["name"] as? String == "bottle-supervise")
    }

    @Test("an unsupported protocol version, in the header or in _meta, gets 400 with -32022 and the supported list")
    func unsupportedVersion() throws {
        let channel = try embedded()
        let header = try send(
            Self.request(
                body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                headers: [("MCP-Protocol-Version", "2030-01-01")]), to: channel)
        #expect(header.head.status == .badRequest)
        #expect(header.json?.errorCode == -32022)
        let data = (header.json?["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect((data?["supported"] as? [String])?.contains("2026-07-28") == true)
        let envelope = try send(
            Self.request(
                body:
                    #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01"}}}"#,
                headers: [("MCP-Protocol-Version", "2030-01-01"), ("Mcp-Method", "tools/list")]), to: channel)
        #expect(envelope.head.status == .badRequest)
        #expect(envelope.json?.errorCode == -32022)
    }

    @Test("in 2026-07-28, ping and unknown methods get 404 with -32601")
    func unknownMethods() throws {
        let channel = try embedded()
        for method in ["ping", "resources/list"] {
            let response = try send(
                Self.request(
                    body: #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":{"_meta":\#(Self.modernMeta)}}"#,
                    headers: Self.modernHeaders + [("Mcp-Method", method)]), to: channel)
            #expect(response.head.status == .notFound, "\(method)")
            #expect(response.json?.errorCode == -32601)
        }
        // Before 2026-07-28 ping is a method, answered as ever.
        let ping = try send(Self.request(body: #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#), to: channel)
        #expect(ping.head.status == .ok)
        #expect(ping.json?.result != nil)
    }

    @Test("a stale Mcp-Session-Id is ignored by a 2026-07-28 request, and answered 404 in a handshake-era one")
    func staleSession() throws {
        let channel = try embedded()
        let modern = try send(
            Self.request(
                body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":\#(Self.modernMeta)}}"#,
                headers: Self.modernHeaders + [("Mcp-Method", "tools/list"), ("Mcp-Session-Id", "gone")]), to: channel)
        #expect(modern.head.status == .ok)
        let legacy = try send(
            Self.request(
                body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, headers: [("Mcp-Session-Id", "gone")]),
            to: channel)
        #expect(legacy.head.status == .notFound)
    }

    // MARK: - Connection rules

    @Test("Expect: 100-continue gets 100 Continue before the body is read")
    func expectContinue() throws {
        let channel = try embedded()
        var fields = HTTPHeaders([("Host", "localhost"), ("Content-Length", "45"), ("Expect", "100-continue")])
        fields.add(name: "Accept", value: "application/json")
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/mcp", headers: fields)))
        guard case .head(let interim)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw TestFailure("no interim response")
        }
        #expect(interim.status == .continue)
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try Self.response(from: channel)?.head.status == .ok)
    }

    @Test("a body over 1 MiB gets 413 and the connection closes once the body is in")
    func bodyLimit() throws {
        let channel = try embedded()
        var fields = HTTPHeaders([("Host", "localhost"), ("Content-Length", String(SidecarHTTPServer.maximumBodySize + 1))])
        fields.add(name: "Expect", value: "100-continue")
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/mcp", headers: fields)))
        let response = try #require(try Self.response(from: channel))
        #expect(response.head.status == .payloadTooLarge)
        #expect(response.header("Connection") == "close")
        #expect(channel.isActive)
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(repeating: 0x20, count: 1000)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test("an idle connection closes after the request timeout; a response restarts the clock")
    func requestTimeout() throws {
        let channel = try embedded()
        clock.advance(by: .seconds(50))
        channel.embeddedEventLoop.advanceTime(by: .seconds(50))
        #expect(try send(Self.request(.GET, "/health"), to: channel).head.status == .ok)
        clock.advance(by: .seconds(50))
        channel.embeddedEventLoop.advanceTime(by: .seconds(50))
        #expect(channel.isActive)
        clock.advance(by: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test("Connection: close closes the connection after the response")
    func connectionClose() throws {
        let channel = try embedded()
        let response = try send(Self.request(.GET, "/health", keepAlive: false), to: channel)
        #expect(response.header("Connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
