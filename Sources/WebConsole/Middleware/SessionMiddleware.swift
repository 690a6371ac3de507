import Foundation
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
    /// When a fleet operator was added, `nil` when they are none
    /// (``OperatorStore/addedAt(_:)``), asked on every request of their
    /// session so `operators remove` ends it at once on every page of the
    /// fleet, and a name removed and added again (another `added_at`) does
    /// not revive the old sessions; `nil` without a fleet. A database that
    /// cannot answer refuses the request (503) but ends no session: an outage
    /// must not sign every operator out.
    var operatorAddedAt: (@Sendable (String) async throws -> Date?)? = nil

    static let cookieName = "bs_session"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let id = request.cookies[Self.cookieName]?.value {
            context.session = await sessions.session(id)
        }
        if let session = context.session, let name = session.operatorName, let operatorAddedAt {
            let addedAt: Date?
            do {
                addedAt = try await operatorAddedAt(name)
            } catch {
                return Page.plain(
                    .serviceUnavailable,
                    "The fleet database cannot say whether \(name) is still an operator; nothing was done. Try again in a moment.")
            }
            if let addedAt, addedAt == session.operatorAddedAt { return try await next(request, context) }
            // Removed, or removed and added again since this session signed in: this session ends.
            await sessions.close(session.id)
            context.session = nil
            if request.method == .get, request.uri.path != "/login" {
                return Page.login(
                    message: "You are signed out: \(name) is no longer the operator this session signed in as (removed, perhaps added again since). Ask for a new link (bottle-supervise operators add NAME).",
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
