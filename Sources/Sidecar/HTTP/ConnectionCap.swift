import NIOCore

/// Caps the open client connections: on the listening channel, it stops
/// accepting (no `read` reaches the socket) while `limit` connections are
/// open, so the rest wait in the kernel's accept backlog instead of being
/// refused, and accepts again when one closes. After Hummingbird's
/// `AvailableConnectionsChannelHandler`.
///
/// Each held call keeps its connection open for as long as the operator
/// takes; without a cap, a client opening connections in a loop would run
/// the sidecar out of file descriptors, and then nothing — not even the
/// decision's delivery — could open a file.
final class ConnectionCap: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never
    typealias OutboundOut = Never

    private let limit: Int
    private(set) var open = 0
    /// Whether a `read` was held back because the cap was reached.
    private(set) var waiting = false

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        let cap = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        child.closeFuture.hop(to: context.eventLoop).whenComplete { _ in
            let (handler, context) = cap.value
            handler.open -= 1
            if handler.waiting, handler.open < handler.limit {
                handler.waiting = false
                context.read()
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard open < limit else {
            waiting = true
            return
        }
        context.read()
    }
}

@available(*, unavailable)
extension ConnectionCap: Sendable {}
