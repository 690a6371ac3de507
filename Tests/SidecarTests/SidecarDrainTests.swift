import Eventually
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Queue
import ServiceLifecycle
import Synchronization
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
        try await eventually("the call is registered as waiting") { sidecar.holder.queue.isWaiting(proposal.id) }

        // What SIGTERM does: the server quiesces each connection, SidecarShutdown ends the held calls.
        Self.quiesce(channel)
        #expect(channel.isActive, "closed before the held call was answered")
        sidecar.holder.shutdown()
        let event = try #require(held.text(try await held.next(channel)))
        #expect(event.contains("sidecar restarting"))
        guard case .end = try await held.next(channel) else { throw TestFailure("the stream did not end") }
        try await eventually("the connection closed") { !channel.isActive }
        #expect(try sidecar.holder.queue.pending().map(\.id) == [proposal.id], "the proposal stays for a retry")
    }

    /// The server's whole connection pipeline, from raw bytes (``SidecarHTTPServer/configure``).
    func rawChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try SidecarHTTPServer.configure(
            channel.pipeline.syncOperations, drainLimit: SidecarHTTPServer.drainTimeout,
            connection: SidecarConnection(settings: settings(), clock: clock))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("half a request head at shutdown: the connection closes with nothing written, and the process goes on (NIO's own error handler wrote a 400 into the closed pipeline and stopped a debug build)")
    func partialHeadAtShutdown() throws {
        let channel = try rawChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /health HTTP/1.1\r\nHo"))
        Self.quiesce(channel)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "bytes were written into the closed connection")
    }

    @Test("a request the parser refuses on an open connection is still answered 400")
    func malformedRequestAnswered() throws {
        let channel = try rawChannel()
        #expect(throws: HTTPParserError.self) { try channel.writeInbound(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost localhost\r\n\r\n")) }
        channel.embeddedEventLoop.run()
        var written = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
        #expect(String(buffer: written).hasPrefix("HTTP/1.1 400 Bad Request"), "\(String(buffer: written))")
    }

    @Test("the server: graceful shutdown closes an idle keep-alive connection and returns, long before the drain deadline")
    func serverDrains() async throws {
        let bound = Mutex<Int?>(nil)
        // The drain deadline far away: a connection closed before it was closed by the quiesce event.
        let server = SidecarHTTPServer(
            dispatcher: sidecar.dispatcher, keepalive: .seconds(15), host: "127.0.0.1", port: 0,
            drainTimeout: .seconds(600), logger: Logger(label: "test")
        ) { port in bound.withLock { $0 = port } }
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await eventually("the server listens") { bound.withLock { $0 } != nil }
        let client = try LoopbackClient(port: try #require(bound.withLock { $0 }))
        defer { client.close() }
        let answer = try await offThePool { try client.exchange("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n") }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")

        await group.triggerGracefulShutdown()
        #expect(try await offThePool { try client.readUntilClosed() } == "", "the idle connection got bytes instead of its close")
        try await running.value
    }
}

/// Runs blocking socket work on a Dispatch thread: a `recv` on Swift's
/// cooperative pool would hold one of its few threads (two on this machine)
/// while the server's own shutdown tasks wait for one, in a parallel run.
private func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// One blocking TCP connection to loopback, each read bounded by a 60 s
/// receive timeout (only a broken server reaches it).
private struct LoopbackClient: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            _ = Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends `request` and returns what one read brings back.
    func exchange(_ request: String) throws -> String {
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { throw TestFailure("no answer (recv \(count), errno \(errno))") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// What arrives before the server closes the connection (EOF).
    /// - Throws: when it is not closed within the receive timeout.
    func readUntilClosed() throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return String(decoding: received, as: UTF8.self) }
            guard count > 0 else { throw TestFailure("not closed within 60 s (errno \(errno))") }
            received += buffer[..<count]
        }
    }

    func close() { _ = Glibc.close(fd) }
}
