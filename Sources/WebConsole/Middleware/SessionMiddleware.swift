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

    static let cookieName = "bs_session"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let id = request.cookies[Self.cookieName]?.value {
            context.session = await sessions.session(id)
        }
        let path = request.uri.path
        if path == "/login" || path.hasPrefix("/static/") {
            return try await next(request, context)
        }
        guard context.session != nil else {
            if request.method == .get { return Page.login(message: nil, status: .unauthorized) }
            return Page.plain(.forbidden, "Log in first.")
        }
        return try await next(request, context)
    }
}
