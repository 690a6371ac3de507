import NIOCore
import NIOHTTP1

/// A request read whole — head and body — as ``SidecarResponder`` answers it.
///
/// The connection hands it over only at the request's end: the body is
/// bounded (``SidecarHTTPServer/maximumBodySize``, enforced while reading by
/// ``ConnectionStateMachine``), and every answer needs all of it anyway, so
/// the responder never sees a partial request and needs no streaming API.
struct SidecarRequest {
    var method: HTTPMethod
    /// The request target without its query string: the route.
    var path: Substring
    /// The headers the sidecar reads, found in one pass.
    var headers: RequestHeaders
    var body: ByteBuffer

    init(method: HTTPMethod, uri: String, headers: RequestHeaders, body: ByteBuffer) {
        self.method = method
        path = uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
        self.headers = headers
        self.body = body
    }
}
