import Foundation
import MCP

/// JSON-RPC responses as bytes, built without a Foundation object tree.
public enum RPCReply {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// `value` as JSON bytes.
    public static func json(_ value: Value) -> [UInt8] {
        (try? Array(encoder.encode(value))) ?? Array("null".utf8)
    }

    /// A success response whose result is already JSON bytes.
    public static func result(id: RequestID?, json result: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(result.count + 40)
        out += #"{"jsonrpc":"2.0","id":"#.utf8
        out += (id?.json ?? "null").utf8
        out += #","result":"#.utf8
        out += result
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A success response.
    public static func result(id: RequestID?, _ result: Value) -> [UInt8] { self.result(id: id, json: json(result)) }

    /// An error response.
    public static func error(id: RequestID?, _ error: RPCError) -> [UInt8] {
        var object: [String: Value] = ["code": .int(error.code), "message": .string(error.message)]
        if let data = error.data { object["data"] = data }
        var out: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out += (id?.json ?? "null").utf8
        out += #","error":"#.utf8
        out += json(.object(object))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A notification.
    public static func notification(method: String, params: Value) -> [UInt8] {
        var out: [UInt8] = Array(#"{"jsonrpc":"2.0","method":"#.utf8)
        out += JSONText.quoted(method).utf8
        out += #","params":"#.utf8
        out += json(params)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
