import MCP
import Queue

/// JSON text to the MCP SDK's `Value`, in one pass over the bytes, through
/// the shared strict parser (`Queue`'s ``JSONParser``).
///
/// Not `JSONDecoder`: decoding `Value` through it was the sidecar's largest
/// cost (docs/architecture.md): the SDK's `Value.init(from:)` tries bool,
/// int, double, string and array in turn, throwing a `DecodingError` for
/// each miss before it reaches an object, and runs a regular expression over
/// every string to spot data URLs — so an agent's justification that happens
/// to start with `data:` would stop being a string. Here a string is a string.
///
/// Policy (docs/sidecar.md): a duplicate key refuses the body (-32700), as
/// the validator refuses one in routes.json, so no member is silently
/// dropped; a lone surrogate escape becomes U+FFFD, as invalid UTF-8 does —
/// the value is decoded once, here, and re-encoded as valid UTF-8, so the
/// repair cannot make two readers disagree, and one odd character in a
/// justification does not cost the agent its whole call.
enum JSONReader {
    /// How deep arrays and objects may nest.
    static let maximumDepth = JSONLimits.maximumDepth

    /// Why a text is not JSON, and where reading stopped.
    struct Failure: Error, Sendable {
        var reason: String
        var offset: Int
        var line: Int
        var column: Int
    }

    static let policy = JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace)

    /// The value of `bytes`, which must hold exactly one JSON value.
    static func value(of bytes: [UInt8]) throws(Failure) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> Value in try value(of: buffer) }
    }

    /// The value of `bytes`, read in place (a request body in a `ByteBuffer`).
    static func value(of bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> Value {
        var parser = JSONParser(bytes: bytes, policy: policy, builder: ValueBuilder())
        do {
            return try parser.parseDocument()
        } catch {
            throw Failure(
                reason: error.message, offset: error.position.offset, line: error.position.line, column: error.column)
        }
    }

    /// Builds MCP values; an object is a dictionary, so a second `key` is
    /// seen by its insertion (no extra lookup on the hot path; the parser
    /// then refuses the body, so which value the dictionary kept is moot).
    struct ValueBuilder: JSONBuilder {
        func string(_ text: String, at position: JSONPosition) -> Value { .string(text) }

        func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition) -> Value? {
            let literal = String(decoding: text, as: UTF8.self)
            if isInteger, let integer = Int(literal) { return .int(integer) }
            guard let double = Double(literal) else { return nil }
            return .double(double)
        }

        func bool(_ value: Bool, at position: JSONPosition) -> Value { .bool(value) }

        func null(at position: JSONPosition) -> Value { .null }

        func beginObject(at position: JSONPosition) -> [String: Value] { [:] }

        func addMember(_ key: String, at keyPosition: JSONPosition, value: Value, to object: inout [String: Value])
            -> JSONMemberInsertion
        {
            // The count tells a new key from a replaced one: the subscript's
            // store is cheaper than `updateValue`, which returns the old value.
            let count = object.count
            object[key] = value
            return object.count > count ? .inserted : .duplicate(firstAt: nil)
        }

        func endObject(_ object: [String: Value], at position: JSONPosition) -> Value { .object(object) }

        func beginArray(at position: JSONPosition) -> [Value] { [] }

        func append(_ value: Value, to array: inout [Value]) { array.append(value) }

        func endArray(_ array: [Value], at position: JSONPosition) -> Value { .array(array) }
    }
}
