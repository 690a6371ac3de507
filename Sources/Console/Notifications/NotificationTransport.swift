import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends a notification's HTTP request; a seam so the retry logic is tested
/// without a network.
protocol NotificationTransport: Sendable {
    /// POSTs `request`, returning the HTTP status; throws when no response came.
    func post(_ request: NotificationRequest, timeout: Duration) async throws -> Int
}

/// The transport the host tools use: Foundation's URLSession (libcurl on
/// Linux, already linked for the MCP SDK), so HTTPS webhooks need no
/// dependency of their own.
///
/// Redirects are not followed: a webhook that answers 3xx would otherwise
/// carry the bearer token to wherever it points.
struct URLSessionTransport: NotificationTransport {
    func post(_ request: NotificationRequest, timeout: Duration) async throws -> Int {
        guard let url = URL(string: request.url) else { throw NotificationFailure.badURL }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: seconds)
        urlRequest.httpMethod = "POST"
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        let session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: urlRequest)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }
}

/// Why one try of a notification failed.
enum NotificationFailure: Error, CustomStringConvertible {
    case badURL
    case status(Int)
    case desktop(String)

    var description: String {
        switch self {
        case .badURL: "the URL is not valid"
        case .status(let code): "the receiver answered HTTP \(code)"
        case .desktop(let text): text
        }
    }

    /// Whether trying again may help: not for a receiver that refused the
    /// request itself (4xx other than 408 and 429), nor for a bad URL.
    var isRetryable: Bool {
        switch self {
        case .badURL: false
        case .status(let code): code == 408 || code == 429 || code >= 500 || code < 400
        case .desktop: false
        }
    }
}
