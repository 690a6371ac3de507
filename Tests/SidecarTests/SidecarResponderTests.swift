import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Queue
import Testing

@testable import Sidecar

/// The responder alone: a request in, an action out — no channel, no event
/// loop. Each route, and each refusal an agent or a browser would see.
@Suite("Sidecar responder")
struct SidecarResponderTests {
    let sidecar: TestSidecar
    var responder: SidecarResponder

    init() throws {
        sidecar = try TestSidecar()
        responder = SidecarResponder(
            dispatcher: sidecar.dispatcher, admissions: AdmissionGate(limit: 4),
            hosts: HostAllowList(bindAddress: "0.0.0.0", extra: ["web-supervise"]), logger: Logger(label: "test"))
    }

    static func request(
        _ method: HTTPMethod = .POST, _ uri: String = "/mcp", body: String = "", host: String? = "127.0.0.1:9100",
        headers: [(String, String)] = []
    ) -> SidecarRequest {
        var fields = HTTPHeaders(headers)
        if let host { fields.add(name: "Host", value: host) }
        return SidecarRequest(
            method: method, uri: uri, headers: RequestHeaders(fields), body: ByteBuffer(string: body))
    }

    /// The response of an action answered at once.
    func response(_ action: ResponderAction) throws -> SidecarResponse {
        guard case .respond(let response) = action else { throw TestFailure("not answered at once: \(action)") }
        return response
    }

    /// The action deferred work ends in, run as the connection would.
    func settled(_ action: ResponderAction) async throws -> ResponderAction {
        guard case .deferred(let work) = action else { throw TestFailure("not deferred: \(action)") }
        return await work.run()
    }

    func json(_ response: SidecarResponse) throws -> [String: Any] { try TestSidecar.object(response.body) }

    func text(_ response: SidecarResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    // MARK: - Routes

    @Test("GET /health answers 200 ok, whatever the query string")
    mutating func health() throws {
        for uri in ["/health", "/health?probe=1"] {
            let response = try response(responder.respond(to: Self.request(.GET, uri)))
            #expect(response.status == .ok)
            #expect(response.contentType == "text/plain")
            #expect(text(response) == "ok\n")
        }
    }

    @Test("GET /metrics is read off the event loop and answers the Prometheus exposition")
    mutating func metrics() async throws {
        let action = responder.respond(to: Self.request(.GET, "/metrics"))
        guard case .deferred(let work) = action else { throw TestFailure("metrics answered on the event loop") }
        #expect(work.gate == nil, "the metrics page does not wait behind tool-call admissions")
        let response = try response(await work.run())
        #expect(response.status == .ok)
        #expect(response.contentType == "text/plain; version=0.0.4")
        #expect(text(response).contains("supervise_"))
    }

    @Test("any other method on /mcp or / gets 405 naming what is allowed; an unknown path 404, escaped")
    mutating func methodsAndPaths() throws {
        for (method, uri) in [(HTTPMethod.GET, "/mcp"), (.PUT, "/"), (.PATCH, "/mcp?x=1")] {
            let refused = try response(responder.respond(to: Self.request(method, uri)))
            #expect(refused.status == .methodNotAllowed, "\(method) \(uri)")
            #expect(refused.header("Allow") == "POST, DELETE")
        }
        let missing = try response(responder.respond(to: Self.request(.GET, "/admin\u{1B}[2J")))
        #expect(missing.status == .notFound)
        #expect(text(missing).hasPrefix("not found: GET /admin"))
        #expect(!text(missing).contains("\u{1B}"))
    }

    @Test("initialize starts a session; DELETE /mcp ends it (204); then the session is unknown (404)")
    mutating func sessionLifecycle() throws {
        let initialize =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
        let started = try response(responder.respond(to: Self.request(body: initialize)))
        #expect(started.status == .ok)
        let session = try #require(started.header("Mcp-Session-Id"))
        let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
        let listed = try response(
            responder.respond(to: Self.request(body: list, headers: [("Mcp-Session-Id", session)])))
        #expect(listed.status == .ok)
        #expect(try json(listed).result?["tools"] != nil)

        let ended = try response(
            responder.respond(to: Self.request(.DELETE, "/mcp", headers: [("Mcp-Session-Id", session)])))
        #expect(ended.status == .noContent)
        let again = try response(
            responder.respond(to: Self.request(.DELETE, "/mcp", headers: [("Mcp-Session-Id", session)])))
        #expect(again.status == .notFound)
        let stale = try response(
            responder.respond(to: Self.request(body: list, headers: [("Mcp-Session-Id", session)])))
        #expect(stale.status == .notFound)
        #expect(try json(stale).errorMessage?.contains("initialize again") == true)
    }

    @Test("a notification is acknowledged with 202 and no body")
    mutating func notification() throws {
        let response = try response(
            responder.respond(to: Self.request(body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)))
        #expect(response.status == .accepted)
        #expect(response.body.isEmpty)
    }

    @Test("a body that is not JSON-RPC gets 400 with a parse error")
    mutating func malformedBody() throws {
        let response = try response(responder.respond(to: Self.request(body: #"{"jsonrpc":"2.0","id":1,"#)))
        #expect(response.status == .badRequest)
        #expect(try json(response).errorCode == -32700)
    }

    // MARK: - Host and Origin (DNS rebinding)

    @Test("a Host off the allow-list, a missing Host and a repeated Host get 421 — on a fresh connection too")
    mutating func hostRefusals() throws {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        var fresh = responder
        let missing = try response(fresh.respond(to: Self.request(body: body, host: nil)))
        #expect(missing.status == .misdirectedRequest)
        #expect(text(missing).contains("(none)"))
        let foreign = try response(responder.respond(to: Self.request(body: body, host: "evil.com:9100")))
        #expect(foreign.status == .misdirectedRequest)
        #expect(text(foreign).contains("--allowed-host"))
        _ = try response(responder.respond(to: Self.request(body: body, host: "web-supervise:9100")))
        let repeated = try response(
            responder.respond(
                to: Self.request(body: body, host: "web-supervise:9100", headers: [("Host", "evil.com")])))
        #expect(repeated.status == .misdirectedRequest)
        // Behind another repeated header, on a GET the transport rules never see (the reviewer's bypass).
        let hidden = try response(
            responder.respond(
                to: Self.request(
                    .GET, "/health", host: nil,
                    headers: [
                        ("Mcp-Method", "a"), ("Mcp-Method", "b"), ("Host", "web-supervise:9100"), ("Host", "evil.com"),
                    ])))
        #expect(hidden.status == .misdirectedRequest)
        let afterAccepted = try response(responder.respond(to: Self.request(.GET, "/health", host: nil)))
        #expect(afterAccepted.status == .misdirectedRequest)
    }

    @Test("a foreign Origin gets 403 with a JSON-RPC error, even on a Host already accepted")
    mutating func foreignOrigin() throws {
        #expect(try response(responder.respond(to: Self.request(.GET, "/health"))).status == .ok)
        let refused = try response(
            responder.respond(
                to: Self.request(
                    body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                    headers: [("Origin", "http://evil.example")])))
        #expect(refused.status == .forbidden)
        #expect(try json(refused).errorCode == -32600)
        #expect(try json(refused).errorMessage?.contains("evil.example") == true)
    }

    // MARK: - 2026-07-28

    static let modernMeta = SidecarConnectionTests.modernMeta

    @Test("2026-07-28: mismatched mirrored headers get 400 -32020, an unsupported revision 400 -32022")
    mutating func modernTransportRules() throws {
        let body = #"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":\#(Self.modernMeta)}}"#
        let missing = try response(
            responder.respond(to: Self.request(body: body, headers: [("MCP-Protocol-Version", "2026-07-28")])))
        #expect(missing.status == .badRequest)
        #expect(try json(missing).errorCode == -32020)
        let unsupported = try response(
            responder.respond(
                to: Self.request(
                    body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                    headers: [("MCP-Protocol-Version", "2030-01-01")])))
        #expect(unsupported.status == .badRequest)
        #expect(try json(unsupported).errorCode == -32022)
        let good = try response(
            responder.respond(
                to: Self.request(
                    body: body, headers: [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list")])))
        #expect(good.status == .ok)
        #expect(good.header("Mcp-Session-Id") == nil, "2026-07-28 has no sessions")
    }

    @Test("2026-07-28: an unknown method is 404 with -32601; a stale session id is ignored")
    mutating func modernStatuses() throws {
        let headers = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "resources/list")]
        let unknown = try response(
            responder.respond(
                to: Self.request(
                    body: #"{"jsonrpc":"2.0","id":1,"method":"resources/list","params":{"_meta":\#(Self.modernMeta)}}"#,
                    headers: headers + [("Mcp-Session-Id", "gone")])))
        #expect(unknown.status == .notFound)
        #expect(try json(unknown).errorCode == -32601)
        #expect(SessionResolution.modernStatus(of: .invalidParams("x")) == .ok)
        #expect(SessionResolution.modernStatus(of: .unsupportedRevision("x")) == .badRequest)
    }

    // MARK: - Tool calls

    @Test("a tools/call is admitted off the event loop through the gate, then held, streaming when accepted")
    mutating func toolCallHeld() async throws {
        let accepts = [("Accept", "application/json, text/event-stream")]
        let action = responder.respond(
            to: Self.request(body: toolCall(tool: "pipelock-block", file: "example.com\n"), headers: accepts))
        guard case .deferred(let work) = action else { throw TestFailure("a tool call was answered on the event loop") }
        #expect(work.gate != nil)
        guard case .hold(let held) = await work.run() else { throw TestFailure("not held") }
        #expect(held.streaming)
        #expect(!held.closeCancels, "a handshake-era disconnect is not a cancellation")
        #expect(try sidecar.holder.queue.pending().map(\.id) == [held.call.proposal.id])
        let beat = String(buffer: held.keepalive(beat: 1))
        #expect(beat == ": waiting for the operator's decision on proposal \(held.call.proposal.id)\n\n")

        let plain = responder.respond(to: Self.request(body: toolCall(id: 8, tool: "pipelock-block", file: "a.org\n")))
        guard case .hold(let quiet) = try await settled(plain) else { throw TestFailure("not held") }
        #expect(!quiet.streaming)
    }

    @Test("a held call's answer: 'sidecar restarting' on shutdown; nothing when the peer is gone")
    mutating func heldAnswers() async throws {
        let action = responder.respond(to: Self.request(body: toolCall(tool: "pipelock-block", file: "example.com\n")))
        guard case .hold(let held) = try await settled(action) else { throw TestFailure("not held") }
        let (bytes, delivery) = try #require(held.answer(.restarting, connectionOpen: { true }))
        #expect(delivery == nil)
        #expect(try TestSidecar.object(bytes).errorMessage?.contains("sidecar restarting") == true)
        var asked = false
        #expect(held.answer(.disconnected, connectionOpen: { asked = true; return true }) == nil)
        #expect(!asked, "a disconnected call does not take the connection's answer slot")
        #expect(held.answer(.restarting, connectionOpen: { false }) == nil)
    }

    @Test("a retried call whose proposal was decided is delivered at once, carrying the decision")
    mutating func decidedDelivery() async throws {
        let call = toolCall(tool: "pipelock-block", file: "example.com\n")
        guard case .hold(let held) = try await settled(responder.respond(to: Self.request(body: call))) else {
            throw TestFailure("not held")
        }
        try sidecar.holder.queue.decide(Decision(id: held.call.proposal.id, status: .approved, decidedBy: "ops"))
        guard case .deliver(let answered, let delivery) = try await settled(responder.respond(to: Self.request(body: call)))
        else { throw TestFailure("a decided retry was not delivered") }
        #expect(answered.status == .ok)
        #expect(delivery.proposals.map(\.id) == [held.call.proposal.id])
        #expect(try sidecar.holder.queue.all().first?.archived == false, "archived only once written")
        await delivery.settle(written: true)
        #expect(try sidecar.holder.queue.all().first?.archived == true)
    }

    // MARK: - Batches

    @Test("a 2025-03-26 batch is deferred and answered as an array; all notifications get 202")
    mutating func batchAnswered() async throws {
        let batch = #"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#
        let action = responder.respond(to: Self.request(body: batch))
        guard case .deferred(let work) = action else { throw TestFailure("not deferred") }
        #expect(work.batch != nil, "the connection can end the batch's held calls if it closes")
        guard case .deliver(let answered, let delivery) = await work.run() else { throw TestFailure("no array") }
        let array = try #require(try JSONSerialization.jsonObject(with: Data(answered.body)) as? [[String: Any]])
        #expect(array.map { $0["id"] as? Int } == [1, 2])
        #expect(delivery.proposals.isEmpty)

        let quiet = #"[{"jsonrpc":"2.0","method":"notifications/initialized"}]"#
        #expect(try response(await settled(responder.respond(to: Self.request(body: quiet)))).status == .accepted)
    }

    @Test("a batch in another revision, or an empty one, gets 400 with -32600 saying why")
    mutating func batchRefused() throws {
        let batch = #"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#
        let later = try response(
            responder.respond(to: Self.request(body: batch, headers: [("MCP-Protocol-Version", "2025-06-18")])))
        #expect(later.status == .badRequest)
        #expect(try json(later).errorCode == -32600)
        #expect(try json(later).errorMessage?.contains("2025-03-26") == true)
        let empty = try response(responder.respond(to: Self.request(body: "[]")))
        #expect(empty.status == .badRequest)
        #expect(try json(empty).errorMessage?.contains("empty batch") == true)
        let unknownSession = try response(
            responder.respond(to: Self.request(body: batch, headers: [("Mcp-Session-Id", "gone")])))
        #expect(unknownSession.status == .notFound)
        let twice = try response(
            responder.respond(
                to: Self.request(
                    body: batch, headers: [("MCP-Protocol-Version", "2025-03-26"), ("MCP-Protocol-Version", "2026-07-28")])))
        #expect(twice.status == .badRequest)
        #expect(try json(twice).errorCode == -32020)
        #expect(try json(twice).errorMessage?.contains("mcp-protocol-version header was sent more than once") == true)
    }
}
