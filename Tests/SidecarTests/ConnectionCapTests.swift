import NIOCore
import NIOEmbedded
import Testing

@testable import Sidecar

@Suite("Connection cap")
struct ConnectionCapTests {
    /// Counts the `read`s that reach the socket (the head of the listener's pipeline).
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    @Test("at the cap the listener stops accepting; when a connection closes it accepts again")
    func cap() throws {
        let counter = ReadCounter()
        let cap = ConnectionCap(limit: 2)
        let listener = EmbeddedChannel()
        try listener.pipeline.syncOperations.addHandler(counter)
        try listener.pipeline.syncOperations.addHandler(cap)

        let first = EmbeddedChannel(loop: listener.embeddedEventLoop)
        let second = EmbeddedChannel(loop: listener.embeddedEventLoop)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try first.connect(to: address).wait()
        try second.connect(to: address).wait()
        try listener.writeInbound(first as any Channel)
        listener.read()
        #expect(counter.reads == 1)
        try listener.writeInbound(second as any Channel)
        listener.read()
        #expect(counter.reads == 1, "a third accept must wait in the backlog")
        #expect(cap.waiting)

        _ = try first.finish()
        listener.embeddedEventLoop.run()
        #expect(counter.reads == 2, "a closed connection frees a place")
        #expect(!cap.waiting)
        #expect(cap.open == 1)
        _ = try listener.readInbound(as: (any Channel).self)
        _ = try listener.readInbound(as: (any Channel).self)
    }
}
