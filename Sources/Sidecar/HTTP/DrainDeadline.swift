import NIOCore

/// Bounds how long a connection may take to finish once the server is
/// shutting down: `limit` after the `ChannelShouldQuiesceEvent`, it closes.
///
/// The quiesce event itself is handled by `HTTPServerPipelineHandler`: an
/// idle connection closes at once, one with a request in flight answers it
/// (with `Connection: close`) and closes after the response's end. That
/// wait has no end of its own — a client that stopped reading its response,
/// or sends its request a byte a minute, would keep the process from
/// exiting — so this handler, first in the pipeline where it sees the event
/// before the HTTP handlers swallow it, gives each connection the same
/// grace the sidecar always gave its held calls' last answers.
final class DrainDeadline: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let limit: TimeAmount
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount) { self.limit = limit }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, timer == nil {
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension DrainDeadline: Sendable {}
