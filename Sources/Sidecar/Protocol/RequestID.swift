import Queue

/// A JSON-RPC request id: a string or an integer, echoed back byte for byte.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    /// A string id.
    case string(String)
    /// A numeric id.
    case number(Int)

    /// The id as JSON text, ready to splice into a response.
    public var json: String {
        switch self {
        case .number(let n): String(n)
        case .string(let s): JSONValue.quoted(s)
        }
    }

    /// The id for logs.
    public var description: String { json }
}
