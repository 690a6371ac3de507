import Queue

/// One decoded JSON-RPC message from the client: a request (with an id) or a
/// notification (without).
///
/// Decoding names the first thing wrong, with the seed's codes: -32700 when
/// the body is not JSON, -32600 when it is not a JSON-RPC 2.0 request object,
/// -32602 when `params` is not an object.
public struct RPCMessage: Sendable {
    /// The method called.
    public var method: String
    /// The id; `nil` for a notification.
    public var id: RequestID?
    /// The parameters (an empty object when absent).
    public var params: JSONValue

    /// Whether the message expects no answer.
    public var isNotification: Bool { id == nil }

    /// The `_meta` object of the parameters, if any.
    public var meta: JSONValue? { params["_meta"].flatMap { $0.isObject ? $0 : nil } }

    /// The revision a 2026-07-28 request names in its `_meta` envelope; `nil`
    /// for handshake-era requests.
    public var envelopeRevision: String? { meta?[ProtocolRevision.versionMetaKey]?.stringValue }

    /// The progress token the client asked keep-alive notifications to carry.
    public var progressToken: JSONValue? {
        switch meta?["progressToken"] {
        case .string(let s)?: .string(s)
        case let number?: number.integerValue.map(JSONValue.integer)
        case nil: nil
        }
    }

    /// A message built in code (tests, the stdio loop).
    public init(method: String, id: RequestID?, params: JSONValue = [:]) {
        self.method = method
        self.id = id
        self.params = params
    }

    /// Decodes `body`. The error carries the id when it could be read, so the
    /// answer can name the request it refuses.
    public static func decode(_ body: [UInt8]) -> Result<RPCMessage, RPCFailure> {
        body.withUnsafeBufferPointer { decode($0) }
    }

    /// Decodes `body` in place (the HTTP transport's request buffer).
    public static func decode(_ body: UnsafeBufferPointer<UInt8>) -> Result<RPCMessage, RPCFailure> {
        let value: JSONValue
        do {
            value = try JSONReader.value(of: body)
        } catch {
            return .failure(notJSON(error))
        }
        return message(from: value)
    }

    /// The -32700 answer to a body that is not JSON, saying where: one text
    /// for a single message and a batch alike.
    static func notJSON(_ error: JSONReader.Failure) -> RPCFailure {
        RPCFailure(
            id: nil,
            error: .parse(
                "parse error: body is not valid JSON: line \(error.line), column \(error.column) (byte \(error.offset)): \(error.reason)"
            ))
    }

    /// The message `value` encodes (a batch is refused: see ``RPCBody`` for the HTTP transport).
    static func message(from envelope: JSONValue) -> Result<RPCMessage, RPCFailure> {
        guard envelope.isObject else {
            let message =
                if case .array = envelope {
                    "batch requests are not supported: send one JSON-RPC request object per message"
                } else {
                    "request must be a JSON object"
                }
            return .failure(RPCFailure(id: nil, error: .invalidRequest(message)))
        }
        var id: RequestID?
        switch envelope["id"] {
        case nil: break
        case .string(let s)?: id = .string(s)
        case let other?:
            guard let n = other.integerValue else {
                return .failure(RPCFailure(id: nil, error: .invalidRequest("id must be a string or an integer")))
            }
            id = .number(n)
        }
        guard envelope["jsonrpc"] == .string("2.0") else {
            return .failure(RPCFailure(id: id, error: .invalidRequest("jsonrpc field must be '2.0'")))
        }
        guard case .string(let method)? = envelope["method"] else {
            return .failure(RPCFailure(id: id, error: .invalidRequest("method must be a string")))
        }
        switch envelope["params"] {
        case nil, .null?: return .success(RPCMessage(method: method, id: id))
        case let params? where params.isObject: return .success(RPCMessage(method: method, id: id, params: params))
        default: return .failure(RPCFailure(id: id, error: .invalidParams("params must be an object")))
        }
    }

    /// Decodes `body`.
    public static func decode(_ body: some Collection<UInt8>) -> Result<RPCMessage, RPCFailure> {
        decode(Array(body))
    }
}

/// A message that could not be decoded, with the id when it was readable.
public struct RPCFailure: Error, Sendable {
    /// The request id, when the envelope got that far.
    public var id: RequestID?
    /// What was wrong.
    public var error: RPCError
}

/// A decoded HTTP request body: one message, or a JSON-RPC batch (which only
/// the 2025-03-26 revision has), each member decoded on its own so one bad
/// member is answered with its own error.
public enum RPCBody: Sendable {
    /// One message.
    case single(RPCMessage)
    /// A batch, in order.
    case batch([Result<RPCMessage, RPCFailure>])

    /// Decodes `body` in place.
    public static func decode(_ body: UnsafeBufferPointer<UInt8>) -> Result<RPCBody, RPCFailure> {
        let value: JSONValue
        do {
            value = try JSONReader.value(of: body)
        } catch {
            return .failure(RPCMessage.notJSON(error))
        }
        if case .array(let members) = value { return .success(.batch(members.map(RPCMessage.message(from:)))) }
        return RPCMessage.message(from: value).map(RPCBody.single)
    }
}
