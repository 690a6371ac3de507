import Queue

/// A JSON-RPC error the sidecar answers with: the seed's codes, and a message
/// that names what was wrong.
public struct RPCError: Error, Sendable, Equatable {
    /// The JSON-RPC error code.
    public var code: Int
    /// What was wrong, in words the agent can act on.
    public var message: String
    /// Structured detail (the `supported` list of -32022).
    public var data: JSONValue?

    /// An error with `code` and `message`.
    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// -32700: the body is not JSON.
    public static func parse(_ message: String) -> RPCError { RPCError(code: -32700, message: message) }
    /// -32600: JSON, but not a JSON-RPC request.
    public static func invalidRequest(_ message: String) -> RPCError { RPCError(code: -32600, message: message) }
    /// -32601: no such method (at this revision).
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "method not found: \(method)")
    }
    /// -32602: the parameters are wrong (including a proposed file that fails validation).
    public static func invalidParams(_ message: String) -> RPCError { RPCError(code: -32602, message: message) }
    /// -32603: the sidecar failed (the queue could not be written, for instance).
    public static func internalError(_ message: String) -> RPCError { RPCError(code: -32603, message: message) }
    /// -32000: the sidecar is stopping; the same call retried re-attaches to its proposal.
    public static let restarting = RPCError(
        code: -32000, message: "sidecar restarting; retry the same call to re-attach to your pending proposal")
    /// -32022 (2026-07-28): the requested revision is not one we speak.
    public static func unsupportedRevision(_ requested: String) -> RPCError {
        RPCError(
            code: -32022,
            message:
                "unsupported protocol version \(requested); supported: \(ProtocolRevision.allNames.joined(separator: ", "))",
            data: .object([
                "supported": .array(ProtocolRevision.allNames.map { .string($0) }), "requested": .string(requested),
            ]))
    }
}
