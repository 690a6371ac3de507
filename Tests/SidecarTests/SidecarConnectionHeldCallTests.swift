import Eventually
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Queue
import Testing

@testable import Sidecar

/// Held calls and batches through the connection handler: admission and
/// decisions come from tasks, so these run on `NIOAsyncTestingChannel`
/// (thread-safe), each wait bounded by a deadline.
@Suite("Sidecar connection handler: held calls")
struct SidecarConnectionHeldCallTests {
    let sidecar: TestSidecar
    let clock = ManualClock()

    init() throws { sidecar = try TestSidecar() }

    /// The helpers below, over `sidecar` (for other suites' held calls).
    init(sidecar: TestSidecar) { self.sidecar = sidecar }

    func channel() async throws -> NIOAsyncTestingChannel {
        let settings = sidecar.connectionSettings(hosts: HostAllowList(bindAddress: "127.0.0.1"))
        let clock = self.clock
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(SidecarConnection(settings: settings, clock: clock))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        return channel
    }

    func post(_ body: String, headers: [(String, String)], to channel: NIOAsyncTestingChannel) async throws {
        for part in SidecarConnectionTests.request(body: body, headers: headers) { try await channel.writeInbound(part) }
    }

    /// The next response part, as soon as the handler writes it; past a
    /// generous deadline (a loaded machine runs these side by side) the
    /// channel is closed, which ends the wait with an error.
    func next(_ channel: NIOAsyncTestingChannel) async throws -> HTTPServerResponsePart {
        let deadline = Task {
            try await Task.sleep(for: .seconds(60))
            try? await channel.close()
        }
        defer { deadline.cancel() }
        return try await channel.waitForOutboundWrite(as: HTTPServerResponsePart.self)
    }

    func text(_ part: HTTPServerResponsePart) -> String? {
        guard case .body(.byteBuffer(let buffer)) = part else { return nil }
        return String(buffer: buffer)
    }

    func modernCall(id: Int = 9) -> (body: String, headers: [(String, String)]) {
        let body = toolCall(
            id: id, tool: "pipelock-block", file: "example.com\n", meta: SidecarConnectionTests.modernMeta)
        return (
            body,
            [
                ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "pipelock-block"),
                ("Accept", "application/json, text/event-stream"),
            ]
        )
    }

    @Test("a held stream: X-Accel-Buffering: no, a keep-alive per interval, then the decision with serverInfo")
    func heldStream() async throws {
        let channel = try await channel()
        let (body, headers) = modernCall()
        try await post(body, headers: headers, to: channel)
        guard case .head(let head) = try await next(channel) else { throw TestFailure("no head") }
        #expect(head.status == .ok)
        #expect(head.headers.first(name: "Content-Type") == "text/event-stream")
        #expect(head.headers.first(name: "X-Accel-Buffering") == "no")

        clock.advance(by: .seconds(15))
        await channel.testingEventLoop.advanceTime(by: .seconds(15))
        #expect(text(try await next(channel))?.hasPrefix(": waiting for the operator's decision") == true)

        let proposal = try #require(try sidecar.holder.queue.pending().first)
        try sidecar.holder.queue.decide(Decision(id: proposal.id, status: .approved, decidedBy: "ops"))
        let event = try #require(text(try await next(channel)))
        #expect(event.hasPrefix("event: message\ndata: "))
        let json = try TestSidecar.object(Array(event.dropFirst("event: message\ndata: ".count).utf8))
        #expect(json.result?["resultType"] as? String == "complete")
        #expect((json.result?["_meta"] as? [String: Any])?["io.modelcontextprotocol/serverInfo"] != nil)
        guard case .end = try await next(channel) else { throw TestFailure("the stream did not end") }
        try await eventually("the delivered decision is archived") {
            try sidecar.holder.queue.all().first?.archived == true
        }
    }

    @Test("closing a 2026-07-28 held stream delivers a cancellation to the held call")
    func closeAsCancel() async throws {
        let channel = try await channel()
        let (body, headers) = modernCall()
        try await post(body, headers: headers, to: channel)
        guard case .head = try await next(channel) else { throw TestFailure("not held") }
        let proposal = try #require(try sidecar.holder.queue.pending().first)
        try await eventually("the call is registered as waiting") { sidecar.holder.queue.isWaiting(proposal.id) }
        try await channel.close()
        // A cancellation withdraws nothing: the proposal stays decidable, and the
        // queue records when the agent stopped waiting.
        try await eventually("the held call was cancelled") {
            sidecar.holder.queue.stoppedWaitingTime(proposal.id) != nil
        }
        #expect(try sidecar.holder.queue.pending().map(\.id) == [proposal.id])
        #expect(!sidecar.holder.queue.isWaiting(proposal.id))
    }

    @Test("closing a handshake-era held call is a disconnect: the proposal stays pending, no longer awaited")
    func legacyDisconnect() async throws {
        let channel = try await channel()
        try await post(
            toolCall(id: 4, tool: "pipelock-block", file: "example.com\n"),
            headers: [("Accept", "application/json, text/event-stream")], to: channel)
        guard case .head = try await next(channel) else { throw TestFailure("not held") }
        let proposal = try #require(try sidecar.holder.queue.pending().first)
        try await eventually("the call is registered as waiting") { sidecar.holder.queue.isWaiting(proposal.id) }
        try await channel.close()
        try await eventually("the waiting marker is gone") { !sidecar.holder.queue.isWaiting(proposal.id) }
        #expect(try sidecar.holder.queue.pending().map(\.id) == [proposal.id])
        #expect(try sidecar.holder.queue.all().first?.decision == nil)
    }

    @Test("a JSON-RPC batch is answered as an array in a 2025-03-26 session, refused in later revisions")
    func batch() async throws {
        let channel = try await channel()
        let batch =
            #"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},"#
            + #"{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}]"#
        try await post(batch, headers: [], to: channel)
        guard case .head(let head) = try await next(channel) else { throw TestFailure("no head") }
        #expect(head.status == .ok)
        let array = try #require(
            try JSONSerialization.jsonObject(with: Data((text(try await next(channel)) ?? "").utf8)) as? [[String: Any]])
        #expect(array.map { $0["id"] as? Int } == [1, 2, 3])
        #expect(array[0].result?["tools"] != nil)
        #expect(array[2].errorCode == -32600)
        guard case .end = try await next(channel) else { throw TestFailure("no end") }

        try await post(batch, headers: [("MCP-Protocol-Version", "2025-06-18")], to: channel)
        guard case .head(let refused) = try await next(channel) else { throw TestFailure("no head") }
        #expect(refused.status == .badRequest)
        let error = try TestSidecar.object(Array((text(try await next(channel)) ?? "").utf8))
        #expect(error.errorCode == -32600)
        #expect(error.errorMessage?.contains("2025-03-26") == true)
        guard case .end = try await next(channel) else { throw TestFailure("no end") }

        // 2026-07-28 has no session: the batch says its revision in the header or in its members' envelopes.
        let modern =
            #"[{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}},"#
            + #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}]"#
        for headers in [[("MCP-Protocol-Version", "2026-07-28")], []] {
            try await post(modern, headers: headers, to: channel)
            guard case .head(let head) = try await next(channel) else { throw TestFailure("no head") }
            #expect(head.status == .badRequest, "headers \(headers)")
            let refusal = try TestSidecar.object(Array((text(try await next(channel)) ?? "").utf8))
            #expect(refusal.errorCode == -32600)
            #expect(refusal.errorMessage?.contains("2026-07-28") == true)
            guard case .end = try await next(channel) else { throw TestFailure("no end") }
        }
    }

    @Test("a tools/call in a batch is held; the array is answered with its decision, which is then archived")
    func batchWithHeldCall() async throws {
        let channel = try await channel()
        let batch = "[" + toolCall(id: 1, tool: "pipelock-block", file: "example.com\n") + ","
            + #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#
        try await post(batch, headers: [], to: channel)
        try await eventually("the batch's call is queued and waiting") {
            guard let proposal = try sidecar.holder.queue.pending().first else { return false }
            return sidecar.holder.queue.isWaiting(proposal.id)
        }
        #expect(try await channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "nothing before the decision")
        let proposal = try #require(try sidecar.holder.queue.pending().first)
        try sidecar.holder.queue.decide(Decision(id: proposal.id, status: .approved, decidedBy: "ops"))
        guard case .head(let head) = try await next(channel) else { throw TestFailure("no head") }
        #expect(head.status == .ok)
        let array = try #require(
            try JSONSerialization.jsonObject(with: Data((text(try await next(channel)) ?? "").utf8)) as? [[String: Any]])
        #expect(array.map { $0["id"] as? Int } == [1, 2])
        #expect(array[0].result?["isError"] as? Bool != true)
        #expect(((array[0].result?["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("approved") == true)
        try await eventually("the delivered decision is archived") {
            try sidecar.holder.queue.all().first?.archived == true
        }
    }

    @Test("at 2026-07-28 a posted notifications/cancelled is acknowledged but cancels nothing: any client could name the id")
    func postedCancellationIgnored() async throws {
        let holding = try await channel()
        let (body, headers) = modernCall(id: 77)
        try await post(body, headers: headers, to: holding)
        guard case .head = try await next(holding) else { throw TestFailure("not held") }

        let other = try await channel()
        try await post(
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":77,"_meta":\#(SidecarConnectionTests.modernMeta)}}"#,
            headers: [("MCP-Protocol-Version", "2026-07-28")], to: other)
        guard case .head(let accepted) = try await next(other) else { throw TestFailure("no answer") }
        #expect(accepted.status == .accepted)
        let entry = try #require(try sidecar.holder.queue.all().first)
        #expect(entry.decision == nil)
        #expect(sidecar.holder.queue.isWaiting(entry.proposal.id))
        #expect(holding.isActive)
        // Still held, not cancelled: the operator's decision reaches the holding stream, and the
        // queue never recorded that the agent stopped waiting.
        try sidecar.holder.queue.decide(Decision(id: entry.proposal.id, status: .approved, decidedBy: "ops"))
        var delivered = try #require(text(try await next(holding)))
        while delivered.hasPrefix(":") { delivered = try #require(text(try await next(holding))) }  // keep-alives
        #expect(delivered.hasPrefix("event: message\ndata: "))
        #expect(delivered.contains("approved"))
        #expect(sidecar.holder.queue.stoppedWaitingTime(entry.proposal.id) == nil)
    }
}
