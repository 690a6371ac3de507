import Logging
import NIOHTTP1
import Queue

/// Answers the sidecar's HTTP requests: routing, the `Host`/`Origin` rules,
/// and (in its extensions) a posted JSON-RPC message or batch — everything
/// a request means, and none of the I/O. It takes a request read whole and
/// returns a ``ResponderAction``; ``SidecarConnection`` performs it.
///
/// No channel and no event loop here, so each route and each refusal is a
/// plain function call in a test (`SidecarResponderTests`). It is called on
/// the connection's event loop and must not block: anything that touches
/// the queue comes back as ``ResponderAction/deferred(_:)``.
///
/// One responder serves one connection: it remembers the `Host` the
/// connection was accepted with (`acceptedHost`), which is why
/// ``respond(to:)`` is `mutating`.
///
/// Where to add things (docs/concurrency.md, "Where to add…", has the whole list):
/// - a route (a new path or method): ``respond(to:)`` below;
/// - a Streamable HTTP rule on headers vs body: ``TransportRules``, which
///   `post(_:)` calls after decoding; a rule on headers alone that must answer
///   before decoding: the top of `post(_:)`; a header not read yet: ``RequestHeaders``;
/// - a session rule: ``SessionResolution``; a batch rule: `SidecarResponder+Batch.swift`
///   (`postBatch` does not call ``TransportRules``);
/// - a tool: nothing here (`Queue.Tool`, `Sources/Sidecar/Tools`, then what the compiler names).
struct SidecarResponder {
    let dispatcher: Dispatcher
    /// Bounds the tool calls being admitted at once, across connections.
    let admissions: AdmissionGate
    /// The names the sidecar may be addressed by, and the origins that may call it.
    let hosts: HostAllowList
    let logger: Logger

    /// The `Host` this connection's last request was accepted with (`.none`
    /// until one was): a keep-alive client sends the same one every time, so
    /// the allow-list is consulted once per connection, not per `tools/list`.
    /// One responder serves one connection.
    private var acceptedHost: String?? = .none

    init(dispatcher: Dispatcher, admissions: AdmissionGate, hosts: HostAllowList, logger: Logger) {
        self.dispatcher = dispatcher
        self.admissions = admissions
        self.hosts = hosts
        self.logger = logger
    }

    /// What to do with `request`.
    mutating func respond(to request: SidecarRequest) -> ResponderAction {
        let headers = request.headers
        // DNS rebinding: every route, since /metrics and /health speak about the bottle too.
        if headers.origin != nil || headers.host != acceptedHost || headers.repeated == "host" {
            if let refusal = checkHost(headers) { return .respond(Self.response(to: refusal)) }
        }
        switch (request.method, request.path) {
        case (.POST, "/mcp"), (.POST, "/"):
            return post(request)
        case (.GET, "/health"):
            return .respond(.text(.ok, "ok\n"))
        case (.GET, "/metrics"):
            let holder = dispatcher.holder
            // The pending count reads the queue directory: off the event loop.
            return .deferred(
                DeferredWork { () -> ResponderAction in
                    let bytes = holder.metrics.exposition(pendingCount: holder.pendingCount())
                    return .respond(
                        SidecarResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: bytes))
                })
        case (.DELETE, "/mcp"):
            guard let session = headers.session, dispatcher.sessions.end(session) else {
                return .respond(.text(.notFound, "no such session\n"))
            }
            return .respond(.empty(.noContent))
        case (_, "/mcp"), (_, "/"):
            return .respond(
                .text(
                    .methodNotAllowed, "this server sends no standalone event stream; POST requests\n",
                    headers: [("Allow", "POST, DELETE")]))
        default:
            return .respond(
                .text(.notFound, "not found: \(request.method) \(Escaped(String(request.path)))\n"))
        }
    }

    /// The allow-list's verdict on `headers`; remembers an accepted `Host`.
    private mutating func checkHost(_ headers: RequestHeaders) -> HostAllowList.Refusal? {
        // A repeated Host is refused as a missing one: a proxy reading the other copy would disagree.
        let host = headers.repeated == "host" ? nil : headers.host
        if let refusal = hosts.check(host: host, origin: headers.origin) { return refusal }
        acceptedHost = .some(host)
        return nil
    }

    /// A refused `Host` (421: the client addressed some other server) or
    /// `Origin` (403, as a JSON-RPC error the MCP client can show).
    static func response(to refusal: HostAllowList.Refusal) -> SidecarResponse {
        switch refusal {
        case .host(let host):
            .text(
                .misdirectedRequest,
                "this server does not answer to Host \(Escaped(host ?? "(none)")); "
                    + "address it by a name on its allow-list (--allowed-host)\n")
        case .origin(let origin):
            .json(.forbidden, RPCReply.error(id: nil, .invalidRequest("forbidden Origin: \(Escaped(origin))")))
        }
    }
}
