import FoundationEssentials
import Synchronization

/// The `Mcp-Session-Id`s handed out by `initialize` over HTTP, with the
/// revision each negotiated. A request naming an unknown session gets 404, as
/// the spec says, so the client starts a new one.
public final class SessionRegistry: Sendable {
    private let sessions = Mutex<[String: ProtocolRevision]>([:])

    /// An empty registry.
    public init() {}

    /// Starts a session at `revision` and returns its id (random, unguessable).
    public func start(revision: ProtocolRevision) -> String {
        var bytes = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(bytes.next() as UInt64, radix: 16) }.joined(separator: "-")
        sessions.withLock { $0[id] = revision }
        return id
    }

    /// The revision of session `id`, or `nil` when it does not exist.
    public func revision(of id: String) -> ProtocolRevision? { sessions.withLock { $0[id] } }

    /// Ends session `id`; returns whether it existed.
    @discardableResult
    public func end(_ id: String) -> Bool { sessions.withLock { $0.removeValue(forKey: id) != nil } }
}
