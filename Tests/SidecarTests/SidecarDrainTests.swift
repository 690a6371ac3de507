import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Queue
import Testing

@testable import Sidecar

/// Graceful shutdown, one connection at a time: the pipeline the server
/// builds (``DrainDeadline``, NIO's `HTTPServerPipelineHandler`, the
/// connection) given the `ChannelShouldQuiesceEvent` that
/// `ServerQuiescingHelper` sends every open connection on SIGTERM.
@Suite("Sidecar connection: graceful shutdown")
struct SidecarDrainTests {
    let sidecar: TestSidecar
    let clock = ManualClock()

    init() throws { sidecar = try TestSidecar() }

    /// The server's connection pipeline, after the HTTP codec (requests arrive as parts).
    static func pipeline(
        _ settings: SidecarConnection<ManualClock>.Settings, _ clock: ManualClock
    ) -> [any ChannelHandler] {
        [
            DrainDeadline(limit: SidecarHTTPServer.drainTimeout), HTTPServerPipelineHandler(),
            SidecarConnection(settings: settings, clock: clock),
        ]
    }

    func settings() -> SidecarConnection<ManualClock>.Settings {
        sidecar.connectionSettings(hosts: HostAllowList(bindAddress: "127.0.0.1"))
    }

    func embedded() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(Self.pipeline(settings(), clock))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func quiesce(_ channel: any Channel) { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }

    @Test("an idle keep-alive connection closes at once")
    func idleCloses() throws {
        let channel = try embedded()
        for part in SidecarConnectionTests.request(.GET, "/health") { try channel.writeInbound(part) }
        #expect(try SidecarConnectionTests.response(from: channel)?.head.status == .ok)
        #expect(channel.isActive)
        Self.quiesce(channel)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a request in flight is answered, with Connection: close, and then the connection closes")
    func inFlightFinishes() throws {
        let channel = try embedded()
        let parts = SidecarConnectionTests.request(body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        try channel.writeInbound(parts[0])
        Self.quiesce(channel)
        #expect(channel.isActive, "closed with a request half read")
        for part in parts.dropFirst() { try channel.writeInbound(part) }
        let response = try #require(try SidecarConnectionTests.response(from: channel))
        #expect(response.head.status == .ok)
        #expect(response.ended)
        #expect(response.json?.result?["tools"] != nil)
        #expect(response.header("connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a connection that does not finish is closed when the drain deadline passes")
    func drainDeadline() throws {
        let channel = try embedded()
        try channel.writeInbound(SidecarConnectionTests.request(body: "{}")[0])
        Self.quiesce(channel)
        channel.embeddedEventLoop.advanceTime(by: SidecarHTTPServer.drainTimeout - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("a held call gets 'sidecar restarting' as its stream's last event, then the connection closes")
    func heldCallAnsweredThenClosed() async throws {
        let settings = self.settings()
        let clock = self.clock
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers(Self.pipeline(settings, clock))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        let held = SidecarConnectionHeldCallTests(sidecar: sidecar)
        try await held.post(
            toolCall(id: 4, tool: "pipelock-block", file: "example.com\n"),
            headers: [("Accept", "application/json, text/event-stream")], to: channel)
        guard case .head(let head) = try await held.next(channel) else { throw TestFailure("not held") }
        #expect(head.headers.first(name: "Content-Type") == "text/event-stream")
        let proposal = try #require(try sidecar.holder.queue.pending().first)
        try await held.eventually("the call is registered as waiting") { sidecar.holder.queue.isWaiting(proposal.id) }

        // What SIGTERM does: the server quiesces each connection, SidecarShutdown ends the held calls.
        Self.quiesce(channel)
        #expect(channel.isActive, "closed before the held call was answered")
        sidecar.holder.shutdown()
        let event = try #require(held.text(try await held.next(channel)))
        #expect(event.contains("sidecar restarting"))
        guard case .end = try await held.next(channel) else { throw TestFailure("the stream did not end") }
        try await held.eventually("the connection closed") { !channel.isActive }
        #expect(try sidecar.holder.queue.pending().map(\.id) == [proposal.id], "the proposal stays for a retry")
    }
}
