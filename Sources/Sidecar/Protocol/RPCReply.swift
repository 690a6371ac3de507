import Queue

/// JSON-RPC responses as bytes: the envelope written around the result's
/// compact JSON text (``JSONValue``'s writer: members in the order built).
public enum RPCReply {
    /// `value` as JSON bytes.
    public static func json(_ value: JSONValue) -> [UInt8] { value.jsonBytes }

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
    public static func result(id: RequestID?, _ result: JSONValue) -> [UInt8] {
        self.result(id: id, json: json(result))
    }

    /// An error response.
    public static func error(id: RequestID?, _ error: RPCError) -> [UInt8] {
        var object: JSONValue = ["code": .integer(error.code), "message": .string(error.message)]
        if let data = error.data { object["data"] = data }
        var out: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out += (id?.json ?? "null").utf8
        out += #","error":"#.utf8
        out += json(object)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A notification.
    public static func notification(method: String, params: JSONValue) -> [UInt8] {
        var out: [UInt8] = Array(#"{"jsonrpc":"2.0","method":"#.utf8)
        out += JSONValue.quoted(method).utf8
        out += #","params":"#.utf8
        out += json(params)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
