import NIOHTTP1

/// A complete response as the responder decides it: status, type, body and
/// the headers that belong to the answer (`Mcp-Session-Id`, `Allow`).
///
/// The headers that belong to the *connection* — `Content-Length`,
/// `Connection: close` — are the channel handler's to add, since only it
/// knows whether the connection stays open.
struct SidecarResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String?
    var body: [UInt8]
    var headers: [(String, String)] = []

    /// A JSON-RPC answer (or error) as `application/json`.
    static func json(_ status: HTTPResponseStatus, _ bytes: [UInt8], headers: [(String, String)] = []) -> Self {
        Self(status: status, contentType: "application/json", body: bytes, headers: headers)
    }

    /// A plain-text answer (a refusal a person reads, `/health`).
    static func text(
        _ status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain",
        headers: [(String, String)] = []
    ) -> Self {
        Self(status: status, contentType: contentType, body: Array(text.utf8), headers: headers)
    }

    /// A response without a body (202 for notifications, 204 for a session's end).
    static func empty(_ status: HTTPResponseStatus) -> Self {
        Self(status: status, contentType: nil, body: [])
    }

    /// The value of header `name` among ``headers`` (ASCII case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
