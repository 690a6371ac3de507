/// The lexical half of the one JSON parser: reads strings, numbers and
/// literals from UTF-8 bytes, skips whitespace, and knows the line and line
/// start of every byte it passes, so every value and error has a position.
///
/// Hand-written (docs/architecture.md): Foundation's readers keep one of two
/// duplicate keys silently, give no line and column, and — through the MCP
/// SDK's `Value` decoding — cost more than the rest of the sidecar's request.
/// Only RFC 8259 is accepted; the messages say what to write instead.
///
/// The hot methods (whitespace, punctuation, an unescaped string, a number)
/// are `@inlinable` so the sidecar's specialised parser runs them without a
/// call; everything that builds a message is out of line.
@usableFromInline
struct JSONTokenizer {
    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline let loneSurrogates: JSONPolicy.LoneSurrogates
    @usableFromInline var offset = 0
    @usableFromInline var line = 1
    @usableFromInline var lineStart = 0

    @inlinable
    init(bytes: UnsafeBufferPointer<UInt8>, loneSurrogates: JSONPolicy.LoneSurrogates) {
        self.bytes = bytes
        self.loneSurrogates = loneSurrogates
    }

    // --- Positions ---------------------------------------------------------

    @inlinable @inline(__always)
    var here: JSONPosition { JSONPosition(offset: offset, line: line, lineStart: lineStart) }

    @inlinable @inline(__always)
    var atEnd: Bool { offset >= bytes.count }

    @inlinable @inline(__always)
    func peek(is byte: UInt8) -> Bool { offset < bytes.count && bytes[offset] == byte }

    @inlinable @inline(__always)
    func isDigit(at index: Int) -> Bool {
        index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10
    }

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                offset += 1
            case UInt8(ascii: "\n"):
                offset += 1
                line += 1
                lineStart = offset
            default:
                return
            }
        }
    }

    // --- Strings -----------------------------------------------------------

    /// Reads the string whose opening quote is at the current offset.
    /// Without escapes the string is made straight from the bytes (no
    /// intermediate array: names and short values cost one allocation or none).
    @inlinable
    mutating func string() throws(JSONSyntaxError) -> String {
        let start = here
        offset += 1
        let runStart = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<offset]), as: UTF8.self)
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            offset += 1
        }
        return try escapedString(start: start, runStart: runStart)
    }

    /// The rest of a string from its first escape (or fault) on.
    @usableFromInline
    mutating func escapedString(start: JSONPosition, runStart: Int) throws(JSONSyntaxError) -> String {
        var buffer: [UInt8] = []
        var runStart = runStart
        while true {
            guard offset < bytes.count else {
                throw failure(
                    "the string that starts at \(located(start)) is never closed; add the closing '\"'", at: start)
            }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<offset]))
                offset += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<offset]))
                try escape(into: &buffer)
                runStart = offset
            case 0x0A:
                throw failure("a string cannot span lines; write a line break inside a string as \\n")
            case 0x00..<0x20:
                throw failure(
                    "\(found) inside a string; control characters must be written as escapes such as \\t or \\u0000")
            default:
                offset += 1
            }
        }
    }

    @usableFromInline
    mutating func escape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        let escape = here
        offset += 1
        guard offset < bytes.count else {
            throw failure("unexpected end of the file after '\\' in a string", at: escape)
        }
        let simple: UInt8? =
            switch bytes[offset] {
            case UInt8(ascii: "\""): UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): UInt8(ascii: "\\")
            case UInt8(ascii: "/"): UInt8(ascii: "/")
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
        if let simple {
            buffer.append(simple)
            offset += 1
            return
        }
        guard bytes[offset] == UInt8(ascii: "u") else {
            throw failure(
                "invalid escape '\\' followed by \(found); the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
                at: escape)
        }
        offset += 1
        let unit = try hexQuad(escape: escape)
        appendUTF8(of: try scalar(startingWith: unit, escape: escape), to: &buffer)
    }

    /// The scalar a `\u` escape stands for, reading the low half of a
    /// surrogate pair when `unit` is a high half; lone halves follow the
    /// policy.
    @usableFromInline
    mutating func scalar(startingWith unit: UInt16, escape: JSONPosition) throws(JSONSyntaxError) -> UInt32 {
        let replacement: UInt32 = 0xFFFD
        if (0xDC00...0xDFFF).contains(unit) {
            guard loneSurrogates == .replace else {
                throw failure(
                    "\\u\(hex(unit)) is the second half of a surrogate pair without a first half; it is not a character",
                    at: escape)
            }
            return replacement
        }
        guard (0xD800...0xDBFF).contains(unit) else { return UInt32(unit) }
        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
        else {
            guard loneSurrogates == .replace else {
                throw failure(
                    "\\u\(hex(unit)) is the first half of a surrogate pair but no \\uDC00-\\uDFFF escape follows it",
                    at: escape)
            }
            return replacement
        }
        let second = here
        offset += 2
        let low = try hexQuad(escape: second)
        guard (0xDC00...0xDFFF).contains(low) else {
            guard loneSurrogates == .replace else {
                throw failure(
                    "\\u\(hex(unit)) must be followed by a low surrogate \\uDC00-\\uDFFF, found \\u\(hex(low))",
                    at: second)
            }
            offset = second.offset  // the second escape is read again on its own
            return replacement
        }
        return 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
    }

    @usableFromInline
    mutating func hexQuad(escape: JSONPosition) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else {
                throw failure("unexpected end of the file in a \\u escape", at: escape)
            }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw failure("a \\u escape needs exactly four hex digits, found \(found)")
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    /// Appends the UTF-8 encoding of `scalar` (a valid scalar value: never a
    /// surrogate, at most U+10FFFF, which `scalar(startingWith:)` ensures).
    @usableFromInline
    func appendUTF8(of scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(0xC0 | UInt8(scalar >> 6))
            buffer.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(0xE0 | UInt8(scalar >> 12))
            buffer.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            buffer.append(0x80 | UInt8(scalar & 0x3F))
        default:
            buffer.append(0xF0 | UInt8(scalar >> 18))
            buffer.append(0x80 | UInt8((scalar >> 12) & 0x3F))
            buffer.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            buffer.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    // --- Numbers and literals ----------------------------------------------

    /// Reads the number at the current offset (its first byte is `-` or a
    /// digit) and returns its literal text and whether it is an integer (no
    /// fraction, no exponent).
    @inlinable
    mutating func number() throws(JSONSyntaxError) -> (text: UnsafeBufferPointer<UInt8>, isInteger: Bool) {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") {
            offset += 1
            guard isDigit(at: offset) else { throw failure("expected a digit after '-', found \(found)") }
        }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if isDigit(at: offset) { throw failure("numbers cannot have leading zeros; write the number without them") }
        } else {
            while isDigit(at: offset) { offset += 1 }
        }
        var isInteger = true
        if peek(is: UInt8(ascii: ".")) {
            isInteger = false
            offset += 1
            guard isDigit(at: offset) else {
                throw failure("expected a digit after the decimal point, found \(found)")
            }
            while isDigit(at: offset) { offset += 1 }
        }
        if peek(is: UInt8(ascii: "e")) || peek(is: UInt8(ascii: "E")) {
            isInteger = false
            offset += 1
            if peek(is: UInt8(ascii: "+")) || peek(is: UInt8(ascii: "-")) { offset += 1 }
            guard isDigit(at: offset) else { throw failure("expected a digit in the exponent, found \(found)") }
            while isDigit(at: offset) { offset += 1 }
        }
        return (UnsafeBufferPointer(rebasing: bytes[start..<offset]), isInteger)
    }

    /// Reads `true`, `false` or `null` at the current offset: the literal's
    /// value (`nil` for null). A word that is none of them is refused with a
    /// message for the usual mistakes (`True`, `None`, `NaN`, `'text'`).
    @inlinable
    mutating func literal() throws(JSONSyntaxError) -> Bool? {
        if matches("true") { return true }
        if matches("false") { return false }
        if matches("null") { return nil }
        throw notALiteral()
    }

    /// Whether `word` is at the current offset and ends there (not the start
    /// of a longer word); consumes it when so.
    @inlinable
    mutating func matches(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] { return false }
        if offset + count < bytes.count, Self.isWordByte(bytes[offset + count]) { return false }
        offset += count
        return true
    }

    @usableFromInline
    func notALiteral() -> JSONSyntaxError {
        let start = here
        var end = offset
        while end < bytes.count, end - offset < 32, Self.isWordByte(bytes[end]) { end += 1 }
        let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
        switch word {
        case "True", "TRUE", "False", "FALSE", "Null", "NULL", "None", "nil", "undefined":
            return failure(
                "\(QuotedText(word)) is not JSON; the literals are true, false and null (lowercase)", at: start)
        case "NaN", "Infinity":
            return failure("\(QuotedText(word)) is not a JSON number; write a number or a string", at: start)
        default:
            break
        }
        guard offset < bytes.count else { return failure("unexpected end of the file: expected a JSON value") }
        switch bytes[offset] {
        case UInt8(ascii: "'"):
            return failure("strings must be in double quotes, not single quotes")
        case UInt8(ascii: "/"):
            return failure("comments are not allowed in JSON; remove them")
        case UInt8(ascii: "+"), UInt8(ascii: "."):
            return failure("numbers cannot start with \(found); write e.g. 0.5 or 5")
        default:
            if !word.isEmpty {
                return failure("unexpected \(QuotedText(word)); strings must be in double quotes")
            }
            return failure("expected a JSON value, found \(found)")
        }
    }

    @inlinable
    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    // --- Messages ----------------------------------------------------------

    /// A syntax error at `position` (the current offset by default).
    @usableFromInline
    func failure(_ message: String, at position: JSONPosition? = nil) -> JSONSyntaxError {
        let position = position ?? here
        return JSONSyntaxError(message: message, position: position, column: position.column(in: bytes))
    }

    /// `line L, column C` of `position`, for messages that point elsewhere.
    @usableFromInline
    func located(_ position: JSONPosition) -> String {
        "line \(position.line), column \(position.column(in: bytes))"
    }

    /// The character at the current offset, named for a message.
    @usableFromInline
    var found: String {
        guard offset < bytes.count else { return "the end of the file" }
        let tail = UnsafeBufferPointer(rebasing: bytes[offset..<min(offset + 4, bytes.count)])
        guard let scalar = String(decoding: tail, as: UTF8.self).unicodeScalars.first else {
            return "the end of the file"
        }
        return CharacterName(scalar: scalar).description
    }

    @usableFromInline
    func hex(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
