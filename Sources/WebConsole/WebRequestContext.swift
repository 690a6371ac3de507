import Hummingbird

/// The request context of the web console: Hummingbird's core context plus
/// the session the ``SessionMiddleware`` found for the request.
public struct WebRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The logged-in session; `nil` before the session middleware ran or for a stranger.
    public var session: SessionStore.Session?

    public init(source: Source) {
        coreContext = .init(source: source)
        session = nil
    }
}
