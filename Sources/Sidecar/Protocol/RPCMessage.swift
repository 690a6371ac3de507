import Foundation
import MCP

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
    public var params: [String: Value]

    /// Whether the message expects no answer.
    public var isNotification: Bool { id == nil }

    /// The `_meta` object of the parameters, if any.
    public var meta: [String: Value]? { params["_meta"]?.objectValue }

    /// The revision a 2026-07-28 request names in its `_meta` envelope; `nil`
    /// for handshake-era requests.
    public var envelopeRevision: String? { meta?[ProtocolRevision.versionMetaKey]?.stringValue }

    /// The progress token the client asked keep-alive notifications to carry.
    public var progressToken: Value? {
        switch meta?["progressToken"] {
        case .string(let s): .string(s)
        case .int(let n): .int(n)
        default: nil
        }
    }

    /// A message built in code (tests, the stdio loop).
    public init(method: String, id: RequestID?, params: [String: Value] = [:]) {
        self.method = method
        self.id = id
        self.params = params
    }

    /// Decodes `body`. The error carries the id when it could be read, so the
    /// answer can name the request it refuses.
    public static func decode(_ body: some DataProtocol) -> Result<RPCMessage, RPCFailure> {
        let data = Data(body)
        let envelope: Envelope
        do {
            envelope = try decoder.decode(Envelope.self, from: data)
        } catch let failure as RPCFailure {
            return .failure(failure)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            return .failure(RPCFailure(id: nil, error: .parse("parse error: body is not valid JSON")))
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            let first = data.first { !" \t\r\n".utf8.contains($0) }
            let message =
                first == UInt8(ascii: "[")
                ? "batch requests are not supported: send one JSON-RPC request object per message"
                : "request must be a JSON object"
            return .failure(RPCFailure(id: nil, error: .invalidRequest(message)))
        } catch {
            return .failure(RPCFailure(id: nil, error: .parse("parse error: \(error)")))
        }
        return .success(envelope.message)
    }

    private static let decoder = JSONDecoder()
}

/// A message that could not be decoded, with the id when it was readable.
public struct RPCFailure: Error, Sendable {
    /// The request id, when the envelope got that far.
    public var id: RequestID?
    /// What was wrong.
    public var error: RPCError
}

/// The JSON-RPC envelope, decoded field by field so each fault gets its own message.
private struct Envelope: Decodable {
    var message: RPCMessage

    enum Keys: String, CodingKey { case jsonrpc, id, method, params }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        var id: RequestID?
        if container.contains(.id) {
            if let n = try? container.decode(Int.self, forKey: .id) {
                id = .number(n)
            } else if let s = try? container.decode(String.self, forKey: .id) {
                id = .string(s)
            } else {
                throw RPCFailure(id: nil, error: .invalidRequest("id must be a string or an integer"))
            }
        }
        guard (try? container.decodeIfPresent(String.self, forKey: .jsonrpc)) == "2.0" else {
            throw RPCFailure(id: id, error: .invalidRequest("jsonrpc field must be '2.0'"))
        }
        guard let method = try? container.decodeIfPresent(String.self, forKey: .method) else {
            throw RPCFailure(id: id, error: .invalidRequest("method must be a string"))
        }
        var params: [String: Value] = [:]
        if container.contains(.params), try !container.decodeNil(forKey: .params) {
            guard let object = try? container.decode([String: Value].self, forKey: .params) else {
                throw RPCFailure(id: id, error: .invalidParams("params must be an object"))
            }
            params = object
        }
        message = RPCMessage(method: method, id: id, params: params)
    }
}
