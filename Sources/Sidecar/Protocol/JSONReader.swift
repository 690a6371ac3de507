import MCP

/// JSON text to the MCP SDK's `Value`, in one pass over the bytes.
///
/// Hand-written because decoding `Value` through `JSONDecoder` was the
/// sidecar's largest cost (docs/architecture.md): the SDK's `Value.init(from:)`
/// tries bool, int, double, string and array in turn, throwing a
/// `DecodingError` for each miss before it reaches an object, and runs a
/// regular expression over every string to spot data URLs — so an agent's
/// justification that happens to start with `data:` would stop being a string.
/// Here a string is a string.
///
/// Strict where it matters for an untrusted peer: RFC 8259 grammar, no
/// trailing text, control characters must be escaped, nesting is capped at
/// ``maximumDepth`` (a hostile `[[[[…` cannot exhaust the stack). Invalid
/// UTF-8 is repaired to U+FFFD, as `String(decoding:as:)` does.
enum JSONReader {
    /// How deep arrays and objects may nest.
    static let maximumDepth = 64

    /// Why a text is not JSON, with the byte offset where reading stopped.
    struct Failure: Error, Sendable {
        var reason: String
        var offset: Int
    }

    /// The value of `bytes`, which must hold exactly one JSON value.
    static func value(of bytes: [UInt8]) throws(Failure) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> Value in try value(of: buffer) }
    }

    /// The value of `bytes`, read in place (a request body in a `ByteBuffer`).
    static func value(of bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> Value {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.failure("unexpected text after the value") }
        return value
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func value(depth: Int) throws(Failure) -> Value {
            guard let byte = current else { throw failure("unexpected end of text") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw failure("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString, _ value: Value) throws(Failure) -> Value {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw failure("unexpected end of text") }
            for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] {
                throw failure("unexpected character")
            }
            position += count
            return value
        }

        mutating func object(depth: Int) throws(Failure) -> Value {
            guard depth <= JSONReader.maximumDepth else {
                throw failure("nested deeper than \(JSONReader.maximumDepth) levels")
            }
            position += 1
            var members: [String: Value] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
                let name = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw failure("expected ':' after a member name") }
                position += 1
                skipWhitespace()
                members[name] = try value(depth: depth)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return .object(members)
                default: throw failure("expected ',' or '}' in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) -> Value {
            guard depth <= JSONReader.maximumDepth else {
                throw failure("nested deeper than \(JSONReader.maximumDepth) levels")
            }
            position += 1
            var elements: [Value] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return .array(elements)
                default: throw failure("expected ',' or ']' in an array")
                }
            }
        }

        mutating func string() throws(Failure) -> String {
            position += 1
            let start = position
            // Fast path: no escapes, the common case.
            while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                guard byte >= 0x20 else { throw failure("control character in a string; escape it") }
                position += 1
            }
            guard let stop = current else { throw failure("unterminated string") }
            if stop == UInt8(ascii: "\"") {
                // Straight from the bytes: no intermediate array (names and
                // short values then cost no allocation at all).
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            var utf8 = Array(bytes[start..<position])
            while true {
                guard let byte = current else { throw failure("unterminated string") }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    try escape(into: &utf8)
                case 0..<0x20:
                    position -= 1
                    throw failure("control character in a string; escape it")
                default:
                    utf8.append(byte)
                }
            }
        }

        mutating func escape(into utf8: inout [UInt8]) throws(Failure) {
            guard let byte = current else { throw failure("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), current == UInt8(ascii: "\\"),
                    position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
                {
                    let mark = position
                    position += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = mark  // not a pair: the high half alone becomes U+FFFD
                    }
                }
                utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default:
                position -= 1
                throw failure("unknown escape in a string")
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw failure("unterminated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw failure("bad hex digit in a \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func number() throws(Failure) -> Value {
            let start = position
            if current == UInt8(ascii: "-") { position += 1 }
            guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
                throw failure("expected a digit")
            }
            if first == UInt8(ascii: "0") { position += 1 } else { skipDigits() }
            var integral = true
            if current == UInt8(ascii: ".") {
                integral = false
                position += 1
                guard try digitsFollow() else { throw failure("expected a digit after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                integral = false
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard try digitsFollow() else { throw failure("expected a digit in the exponent") }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if integral, let integer = Int(text) { return .int(integer) }
            guard let double = Double(text) else { throw failure("number out of range") }
            return .double(double)
        }

        mutating func skipDigits() {
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        }

        mutating func digitsFollow() throws(Failure) -> Bool {
            let before = position
            skipDigits()
            return position > before
        }
    }
}
