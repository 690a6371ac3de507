import Hummingbird

/// Refuses a request whose `Host` is not one of ours (421) or that comes
/// from a foreign `Origin` (403): the DNS-rebinding and cross-site defence,
/// before anything else looks at the request.
struct HostCheckMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let hosts: AllowedHosts

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // HTTP/1.1's Host header arrives as the request's authority.
        guard hosts.allows(host: request.head.authority) else {
            return Page.plain(.misdirectedRequest, "This console does not answer to that host name.")
        }
        if let origin = request.headers[.origin], !hosts.allows(origin: origin, requestHost: request.head.authority) {
            return Page.plain(.forbidden, "Requests from another site are refused.")
        }
        return try await next(request, context)
    }
}
