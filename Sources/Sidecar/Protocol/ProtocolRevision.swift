/// The MCP protocol revisions the sidecar speaks, and how a client's request
/// picks one.
///
/// Two eras: the `initialize` handshake revisions (negotiated once per
/// session) and the stateless 2026-07-28 revision, where every request carries
/// its revision in `params._meta` and `server/discover` replaces the handshake.
///
/// A revision arrives as text (a header, `params.protocolVersion`, the `_meta`
/// envelope) and is parsed once with `init(rawValue:)`; from there on the code
/// asks typed questions (`revision >= .v2025_11_25`, ``isModern``) instead of
/// comparing date strings, so a misspelt date is a compile error rather than
/// a comparison that is quietly always false.
public enum ProtocolRevision: String, CaseIterable, Comparable, Sendable {
    /// The first revision: no tool annotations, no Streamable HTTP.
    case v2024_11_05 = "2024-11-05"
    /// Streamable HTTP, tool annotations, JSON-RPC batches (this revision only).
    case v2025_03_26 = "2025-03-26"
    /// Tool titles, `outputSchema` and `structuredContent`.
    case v2025_06_18 = "2025-06-18"
    /// Core tasks; invalid tool input answered as a tool error.
    case v2025_11_25 = "2025-11-25"
    /// Stateless: the per-request `_meta` envelope, `server/discover`, no sessions, no `ping`.
    case v2026_07_28 = "2026-07-28"

    /// Every revision, oldest first (the `supported` list of error -32022).
    public static let all = allCases
    /// The answer to an `initialize` asking for a revision we do not know.
    public static let latestHandshake = ProtocolRevision.v2025_11_25
    /// The revision of a request that names none (no session, no header):
    /// the first Streamable HTTP revision, as the transport spec says.
    public static let unnamed = ProtocolRevision.v2025_03_26

    /// The one revision with JSON-RPC batches (2025-06-18 removed them).
    public static let batching = ProtocolRevision.v2025_03_26

    /// The `_meta` key carrying a modern request's revision.
    public static let versionMetaKey = "io.modelcontextprotocol/protocolVersion"
    /// The `_meta` key under which `server/discover` names this server.
    public static let serverInfoMetaKey = "io.modelcontextprotocol/serverInfo"

    /// Every revision's name, oldest first, for messages and `supportedVersions`.
    public static var allNames: [String] { all.map(\.rawValue) }

    /// Whether this is the stateless 2026-07-28 revision (the `_meta` envelope era).
    public var isModern: Bool { self >= .v2026_07_28 }

    /// Whether a request of this revision may be a JSON-RPC batch.
    public var hasBatches: Bool { self == Self.batching }

    /// The handshake answer: the client's revision when we speak it, else our
    /// latest (the client then decides whether to continue).
    public static func negotiate(_ requested: String?) -> ProtocolRevision {
        guard let requested, let revision = ProtocolRevision(rawValue: requested), !revision.isModern else {
            return latestHandshake
        }
        return revision
    }

    /// A revision named in a handshake-era place (the `MCP-Protocol-Version`
    /// header without an envelope); `nil` for a modern or unknown name.
    public static func handshake(named name: String) -> ProtocolRevision? {
        ProtocolRevision(rawValue: name).flatMap { $0.isModern ? nil : $0 }
    }

    /// A revision named in a `_meta` envelope or its header; `nil` unless it is a modern one.
    public static func modern(named name: String) -> ProtocolRevision? {
        ProtocolRevision(rawValue: name).flatMap { $0.isModern ? $0 : nil }
    }

    /// Revisions are dates (ISO 8601), so they order as their names do.
    public static func < (lhs: ProtocolRevision, rhs: ProtocolRevision) -> Bool { lhs.rawValue < rhs.rawValue }
}
