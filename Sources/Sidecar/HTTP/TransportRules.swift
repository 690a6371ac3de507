import Queue
import FoundationEssentials
import NIOHTTP1

/// The checks a posted message must pass before it is dispatched: the
/// 2026-07-28 Streamable HTTP rules (SEP-2243's mirrored headers, the
/// protocol-version header). Sessions are ``SessionResolution``'s.
///
/// ``check(_:_:)`` takes the decoded message, so it runs in
/// `SidecarResponder.post(_:)` after `RPCBody.decode`, on a single message
/// only: `postBatch` does not call it. A rule on headers alone that must
/// answer before the body is decoded belongs before `RPCBody.decode` in
/// `post(_:)` (docs/concurrency.md, "Where to add…").
///
/// 2026-07-28 lets proxies and gateways route, rate-limit and authorize a
/// request by its headers (`Mcp-Method`, `Mcp-Name`) without reading the
/// body; a request whose headers say one thing and whose body another would
/// pass such a gateway as one operation and be executed as another, so a
/// mismatch — or an absent header — is refused (HTTP 400, -32020). An
/// unsupported revision, in the header or in `params._meta`, is refused
/// with HTTP 400 and -32022 carrying the supported list, so an
/// auto-negotiating client can fall back.
enum TransportRules {
    /// A request refused before dispatch: the HTTP status and the JSON-RPC error.
    struct Refusal: Error, Equatable {
        var status: HTTPResponseStatus
        var error: RPCError
    }

    /// -32020 (2026-07-28): the mirrored headers are missing or disagree with the body.
    static func headerMismatch(_ message: String) -> Refusal {
        Refusal(status: .badRequest, error: RPCError(code: -32020, message: message))
    }

    /// Methods whose target is mirrored in `Mcp-Name`, and the parameter it mirrors.
    static let nameBearing = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"]

    /// Checks `message` against `headers`; `nil` when it may be dispatched.
    static func check(_ headers: RequestHeaders, _ message: RPCMessage) -> Refusal? {
        // `repeated` is never "host" here: `SidecarResponder.respond(to:)` checks the Host of
        // every request whose `repeated` is "host", and the allow-list refuses it as a missing
        // Host (421) before a body is decoded; `RequestHeaders` records a repeated Host whatever
        // came before it. So this names Mcp-Method, Mcp-Name or MCP-Protocol-Version.
        if let repeated = headers.repeated {
            return headerMismatch("the \(repeated) header was sent more than once; send it once")
        }
        // An unsupported header takes precedence over a mismatch (the conformance suite's order).
        if let version = headers.protocolVersion, ProtocolRevision(rawValue: version) == nil {
            return Refusal(status: .badRequest, error: .unsupportedRevision(version))
        }
        // 2026-07-28 defines no header rules for notifications (they are acknowledged and dropped).
        if message.isNotification { return nil }
        let envelope = message.meta?[ProtocolRevision.versionMetaKey]
        if let envelope {
            guard case .string(let requested) = envelope else {
                return Refusal(
                    status: .badRequest,
                    error: .invalidParams("params._meta[\"\(ProtocolRevision.versionMetaKey)\"] must be a string"))
            }
            guard let version = headers.protocolVersion else {
                return headerMismatch(
                    "the MCP-Protocol-Version header is missing; send the revision of params._meta (\(requested))")
            }
            guard version == requested else {
                return headerMismatch(
                    "the MCP-Protocol-Version header (\(version)) does not match params._meta (\(requested))")
            }
            guard headers.method != nil else {
                return headerMismatch("the Mcp-Method header is missing; send the request's method (\(message.method))")
            }
        } else if let version = headers.protocolVersion, ProtocolRevision.modern(named: version) != nil {
            return headerMismatch(
                "the MCP-Protocol-Version header names \(version), but params._meta carries no "
                    + "\"\(ProtocolRevision.versionMetaKey)\"; send the revision in both")
        }
        // Before 2026-07-28 the mirrored headers are optional, but when sent they must agree.
        if let method = headers.method, method != message.method {
            return headerMismatch(
                "the Mcp-Method header (\(JSONValue.quoted(method))) does not match the body's method "
                    + "(\(JSONValue.quoted(message.method)))")
        }
        if let key = nameBearing[message.method], case .string(let target)? = message.params[key] {
            guard let sent = headers.name else {
                if envelope == nil { return nil }
                return headerMismatch("the Mcp-Name header is missing; send params.\(key) (\(JSONValue.quoted(target)))")
            }
            guard decodeHeaderValue(sent) == target else {
                return headerMismatch(
                    "the Mcp-Name header (\(JSONValue.quoted(sent))) does not match params.\(key) "
                        + "(\(JSONValue.quoted(target)))")
            }
        }
        if let envelope, case .string(let requested) = envelope, ProtocolRevision.modern(named: requested) == nil {
            return Refusal(status: .badRequest, error: .unsupportedRevision(requested))
        }
        return nil
    }

    /// A header value as sent: verbatim, or the UTF-8 text of `=?base64?…?=`
    /// (how clients send a name that is not printable ASCII). `nil` when the
    /// base64 form is malformed, so a corrupt header never matches.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let payload = String(value.dropFirst(9).dropLast(2))
        guard let data = Data(base64Encoded: payload), data.base64EncodedString() == payload else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
