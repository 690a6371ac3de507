import HTTPTypes
import Hummingbird

/// The headers every answer carries: a Content-Security-Policy that allows
/// only this origin's own script and style (no inline script, no framing,
/// forms only to itself), no MIME sniffing, no referrer to other sites, no caching.
///
/// With agent text always HTML-escaped, the policy is the second wall: even
/// a markup mistake could not run a script or load anything from elsewhere.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let usesTLS: Bool

    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.frameOptions] = "DENY"
        // Not `no-referrer`: with it, browsers send `Origin: null` on the page's own
        // form posts, which the Origin check must refuse.
        response.headers[Self.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if usesTLS { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}
