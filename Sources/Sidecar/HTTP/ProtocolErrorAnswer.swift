import NIOCore
import NIOHTTP1

/// Answers a request the HTTP parser refused with `400 Bad Request` — as
/// NIO's `HTTPServerProtocolErrorHandler` does — but only on a connection
/// that is still open.
///
/// Why not NIO's own: on graceful shutdown `HTTPServerPipelineHandler`
/// closes a connection it sees as idle, and a connection holding half a
/// request head is idle to it (no head has been parsed). The close makes the
/// decoder report the cut-off head as a parse error, NIO's handler then
/// writes its 400 into a pipeline whose quiescing has completed, and the
/// pipeline handler stops the process ("Wrote in quiescing completed state"
/// in a debug build): one client holding a partial head at SIGTERM crashed
/// the sidecar. A closed connection has nobody to tell, so nothing is written.
final class ProtocolErrorAnswer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response's head went out and its end has not: a 400 cannot follow.
    private var responseUnfinished = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !responseUnfinished, context.channel.isActive {
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        // Passed on (the decoder closes the connection after a parse error in any case).
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200: break
        case .head: responseUnfinished = true
        case .body: break
        case .end: responseUnfinished = false
        }
        context.write(data, promise: promise)
    }
}
