import Hummingbird

/// Lets only logged-in browsers past, and only with their CSRF token on a POST.
///
/// The session cookie is HttpOnly and SameSite=Strict, so another site can
/// neither read it nor have the browser send it; the CSRF token in every
/// form is the second check. The login page, its POST and the static assets
/// are open; everything else answers a stranger with the login page (GET)
/// or 403.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let sessions: SessionStore
    /// Whether a fleet operator is still one (``OperatorStore/isActive(_:)``),
    /// asked on every request of their session so `operators remove` ends it
    /// at once on every page of the fleet; `nil` without a fleet. A database
    /// that cannot answer counts as "no": a page that cannot check stops deciding.
    var isOperator: (@Sendable (String) async -> Bool)? = nil

    static let cookieName = "bs_session"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let id = request.cookies[Self.cookieName]?.value {
            context.session = await sessions.session(id)
        }
        if let name = context.session?.operatorName, let isOperator, await !isOperator(name) {
            await sessions.close(operator: name)
            context.session = nil
            if request.method == .get, request.uri.path != "/login" {
                return Page.login(
                    message: "You are signed out: the operator \(name) is not (or no longer) an operator of this fleet, or the fleet database cannot say. Ask for a new link (bottle-supervise operators add NAME).",
                    status: .unauthorized)
            }
        }
        let path = request.uri.path
        if path == "/login" || path == "/login/operator" || path.hasPrefix("/static/") {
            return try await next(request, context)
        }
        guard context.session != nil else {
            if request.method == .get { return Page.login(message: nil, status: .unauthorized) }
            return Page.plain(.forbidden, "Log in first.")
        }
        return try await next(request, context)
    }
}
