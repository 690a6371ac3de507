import NIOHTTP1

/// Which session, and so which protocol revision, a `POST /mcp` belongs to.
///
/// Handshake-era revisions (up to 2025-11-25) negotiate a revision in
/// `initialize` and name the session in `Mcp-Session-Id` afterwards; a
/// session this process does not know (ended, or started before a restart)
/// is answered 404, which tells the client to initialize again. 2026-07-28
/// has no sessions: each request names its revision in `params._meta`, and a
/// stale `Mcp-Session-Id` (left over from an earlier handshake) is ignored
/// rather than answered with 404.
struct SessionResolution: Equatable {
    /// The session's id; empty without one.
    var id: String
    /// The negotiated revision, else the one the `MCP-Protocol-Version` header names.
    var revision: ProtocolRevision?

    /// The session of a request for `method` with `headers`; `modern` when
    /// its body names a 2026-07-28 revision.
    static func resolve(
        _ headers: RequestHeaders, method: String, modern: Bool, sessions: SessionRegistry
    ) -> Result<Self, TransportRules.Refusal> {
        guard !modern else { return .success(Self(id: "", revision: nil)) }
        var resolved = Self(id: "", revision: nil)
        if let session = headers.session, method != "initialize" {
            guard let known = sessions.revision(of: session) else {
                return .failure(
                    .init(status: .notFound, error: .invalidRequest("unknown session \(session); initialize again")))
            }
            resolved = Self(id: session, revision: known)
        }
        if resolved.revision == nil, let version = headers.protocolVersion {
            resolved.revision = ProtocolRevision.handshake(named: version)
        }
        return .success(resolved)
    }

    /// The HTTP status of a 2026-07-28 error answer: the transport spec maps
    /// an unknown method to 404 and a malformed or unsupported request to
    /// 400. (Handshake-era errors travel in a 200 response.)
    static func modernStatus(of error: RPCError) -> HTTPResponseStatus {
        switch error.code {
        case -32601: .notFound
        case -32600, -32020, -32022: .badRequest
        default: .ok
        }
    }
}
