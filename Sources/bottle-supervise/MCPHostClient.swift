import Foundation
import Queue

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A small MCP client over Streamable HTTP, for the host: `ask` and the demo's
/// agent play an agent against a sidecar with it.
///
/// Not the MCP Swift SDK's client: issue 20 drops the SDK, and a client needs
/// only four POSTs (initialize, the initialized notification, tools/call,
/// proposal-status). Requests are written with ``JSONValue`` and answers read
/// with the project's own strict ``JSONParser``; the transport is URLSession.
/// An answer may come as one JSON body or as a `text/event-stream` (the
/// sidecar streams a held call, with keep-alive comments): both are read, the
/// stream to its end, and the response with the request's id is taken from it.
struct MCPHostClient {
    /// Why talking to the sidecar failed, in words for the operator.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// A tool's result: its text content, its `structuredContent`, and `isError`.
    struct ToolResult {
        var text: String
        var structured: JSONValue?
        var isError: Bool

        /// `structuredContent.status`: approved, modified, rejected, withdrawn, expired, pending.
        var status: String? { structured?["status"].flatMap(\.stringValue) }
        /// `structuredContent.proposal_id`.
        var proposalID: String? { structured?["proposal_id"].flatMap(\.stringValue) }
    }

    static let protocolVersion = "2025-06-18"

    let endpoint: URL
    private let session: URLSession
    private var sessionID: String?
    private var nextID = 1

    /// - Parameter idleTimeout: seconds without a byte from the sidecar before a request fails (a
    ///   held call's keep-alives arrive every 15 s by default; a JSON-only answer sends nothing until decided).
    init(url: String, idleTimeout: Double = 24 * 3600) throws(Problem) {
        guard let endpoint = URL(string: url), let scheme = endpoint.scheme?.lowercased(),
            scheme == "http" || scheme == "https", endpoint.host != nil
        else {
            throw Problem(description: "\(url) is not an http:// or https:// URL (such as http://127.0.0.1:9100/mcp)")
        }
        self.endpoint = endpoint
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = 366 * 24 * 3600
        session = URLSession(configuration: configuration)
    }

    /// `initialize` and `notifications/initialized`: the session the sidecar hands out is kept.
    mutating func connect(clientName: String) async throws(Problem) {
        let (response, headers) = try await request(
            "initialize",
            params: .object([
                JSONMember(key: "protocolVersion", value: .string(Self.protocolVersion)),
                JSONMember(key: "capabilities", value: .object([])),
                JSONMember(
                    key: "clientInfo",
                    value: .object([
                        JSONMember(key: "name", value: .string(clientName)),
                        JSONMember(key: "version", value: .string(ProductVersion.current)),
                    ])),
            ]))
        guard response?["result"]?["protocolVersion"] != nil else {
            throw Problem(description: "\(endpoint) did not answer initialize as an MCP server: \(Self.shown(response))")
        }
        sessionID = headers["mcp-session-id"]
        _ = try await post(
            .object([
                JSONMember(key: "jsonrpc", value: .string("2.0")),
                JSONMember(key: "method", value: .string("notifications/initialized")),
            ]), expectsAnswer: false)
    }

    /// `tools/call` of `name` with string `arguments`.
    mutating func callTool(_ name: String, arguments: [(String, String)]) async throws(Problem) -> ToolResult {
        let (response, _) = try await request(
            "tools/call",
            params: .object([
                JSONMember(key: "name", value: .string(name)),
                JSONMember(
                    key: "arguments", value: .object(arguments.map { JSONMember(key: $0.0, value: .string($0.1)) })),
            ]))
        if let error = response?["error"] {
            let message = error["message"].flatMap(\.stringValue) ?? error.description
            throw Problem(description: "the sidecar refused the call to \(name): \(message)")
        }
        guard let result = response?["result"] else {
            throw Problem(description: "the sidecar's answer to \(name) has no result: \(Self.shown(response))")
        }
        var texts: [String] = []
        if case .array(let items)? = result["content"] {
            texts = items.compactMap { $0["text"].flatMap(\.stringValue) }
        }
        var isError = false
        if case .bool(let flag)? = result["isError"] { isError = flag }
        return ToolResult(
            text: texts.joined(separator: "\n"), structured: result["structuredContent"], isError: isError)
    }

    private mutating func request(_ method: String, params: JSONValue) async throws(Problem)
        -> (JSONValue?, [String: String])
    {
        let id = nextID
        nextID += 1
        return try await post(
            .object([
                JSONMember(key: "jsonrpc", value: .string("2.0")),
                JSONMember(key: "id", value: .number(String(id))),
                JSONMember(key: "method", value: .string(method)),
                JSONMember(key: "params", value: params),
            ]), expectsAnswer: true, id: id)
    }

    /// POSTs one JSON-RPC message; returns the response with `id` (from a JSON body or an event stream).
    private func post(_ message: JSONValue, expectsAnswer: Bool, id: Int? = nil) async throws(Problem)
        -> (JSONValue?, [String: String])
    {
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue(Self.protocolVersion, forHTTPHeaderField: "MCP-Protocol-Version")
        if let sessionID { request.setValue(sessionID, forHTTPHeaderField: "Mcp-Session-Id") }
        request.httpBody = Data(message.description.utf8)
        let data: Data
        let response: HTTPURLResponse
        do {
            let (body, answer) = try await session.data(for: request)
            guard let http = answer as? HTTPURLResponse else {
                throw Problem(description: "\(endpoint) gave no HTTP response")
            }
            (data, response) = (body, http)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "cannot reach \(endpoint): \(error.localizedDescription)")
        }
        var headers: [String: String] = [:]
        for case (let name as String, let value as String) in response.allHeaderFields {
            headers[name.lowercased()] = value
        }
        guard (200..<300).contains(response.statusCode) else {
            let body = String(decoding: data.prefix(500), as: UTF8.self)
            throw Problem(description: "\(endpoint) answered HTTP \(response.statusCode): \(body)")
        }
        guard expectsAnswer else { return (nil, headers) }
        let contentType = headers["content-type"]?.lowercased() ?? ""
        let bodies =
            contentType.hasPrefix("text/event-stream") ? Self.eventData(in: data) : [data]
        for body in bodies {
            guard let value = Self.parse(body) else { continue }
            if let id, value["id"] == .number(String(id)) { return (value, headers) }
        }
        throw Problem(
            description: "\(endpoint) sent no answer to the request (\(contentType.isEmpty ? "no content type" : contentType)): "
                + String(decoding: data.prefix(500), as: UTF8.self))
    }

    /// The `data:` payloads of a complete event stream, one per event (comments and other fields skipped).
    static func eventData(in stream: Data) -> [Data] {
        var events: [Data] = []
        var current: [Substring] = []
        let text = String(decoding: stream, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty {
                if !current.isEmpty { events.append(Data(current.joined(separator: "\n").utf8)) }
                current = []
            } else if line.hasPrefix("data:") {
                var payload = line.dropFirst(5)
                if payload.first == " " { payload = payload.dropFirst() }
                current.append(payload)
            }
        }
        if !current.isEmpty { events.append(Data(current.joined(separator: "\n").utf8)) }
        return events
    }

    /// One JSON value, read by the project's strict parser (`nil`: not JSON).
    static func parse(_ data: Data) -> JSONValue? {
        Array(data).withUnsafeBufferPointer { bytes in
            try? JSONValue.parse(bytes, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace))
        }
    }

    private static func shown(_ value: JSONValue?) -> String {
        String((value?.description ?? "nothing").prefix(500))
    }
}
