/// The MCP protocol revisions the sidecar speaks, and how a client's request
/// picks one.
///
/// Two eras: the `initialize` handshake revisions (negotiated once per
/// session) and the stateless 2026-07-28 revision, where every request carries
/// its revision in `params._meta` and `server/discover` replaces the handshake.
public enum ProtocolRevision {
    /// Revisions reachable through `initialize`, oldest first.
    public static let handshake = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    /// Revisions that use the per-request `_meta` envelope, oldest first.
    public static let modern = ["2026-07-28"]
    /// Every revision, oldest first (the `supported` list of error -32022).
    public static let all = handshake + modern
    /// The answer to an `initialize` asking for a revision we do not know.
    public static let latestHandshake = "2025-11-25"

    /// The `_meta` key carrying a modern request's revision.
    public static let versionMetaKey = "io.modelcontextprotocol/protocolVersion"
    /// The `_meta` key under which `server/discover` names this server.
    public static let serverInfoMetaKey = "io.modelcontextprotocol/serverInfo"

    /// The handshake answer: the client's revision when we speak it, else our
    /// latest (the client then decides whether to continue).
    public static func negotiate(_ requested: String?) -> String {
        guard let requested, handshake.contains(requested) else { return latestHandshake }
        return requested
    }

    /// Whether a revision gives the client a session id (`Mcp-Session-Id`).
    /// 2024-11-05 predates Streamable HTTP; we still give it one, since a
    /// client that ignores the header loses nothing.
    public static func hasSessions(_ revision: String) -> Bool { handshake.contains(revision) }

    /// Whether a revision has `ping` (removed in 2026-07-28).
    public static func hasPing(_ revision: String) -> Bool { !modern.contains(revision) }
}
