/// A strict RFC 8259 JSON parser that says where things are.
///
/// Hand-written because Foundation's `JSONSerialization` and `JSONDecoder`
/// silently keep one of two duplicate keys and report syntax errors by byte
/// offset at best, while an agent fixing its routes.json needs "line 3,
/// column 5: duplicate key". Only the RFC grammar is accepted (no comments,
/// trailing commas, single quotes, NaN, leading zeros, unpaired surrogate
/// escapes, byte order mark), nesting is capped at ``maximumDepth`` so hostile
/// input cannot exhaust the stack, and every step is linear in the input.
struct StrictJSONParser {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 64

    /// Parses `text` as one JSON value. Duplicate keys are collected into
    /// `problems` and parsing goes on; the first syntax error is added to
    /// `problems` and ends parsing with `nil`.
    static func parse(_ text: String, problems: inout ProblemList) -> JSONNode? {
        var parser = StrictJSONParser(text: text)
        do {
            let node = try parser.parseDocument(problems: &problems)
            return node
        } catch {
            problems.add(
                error.message, line: error.position.line, column: parser.column(of: error.position))
            return nil
        }
    }

    private let text: String
    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var lineStart = 0

    private init(text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    // --- Positions ---------------------------------------------------------

    private var here: JSONPosition {
        JSONPosition(offset: offset, line: line, lineStart: lineStart)
    }

    func column(of position: JSONPosition) -> Int {
        position.column(in: text)
    }

    private func located(_ position: JSONPosition) -> String {
        "line \(position.line), column \(column(of: position))"
    }

    private func fail(_ message: String, at position: JSONPosition? = nil) -> JSONSyntaxError {
        JSONSyntaxError(message: message, position: position ?? here)
    }

    /// The character at the current offset, named for a message.
    private var found: String {
        guard offset < bytes.count else { return "the end of the file" }
        let tail = bytes[offset..<min(offset + 4, bytes.count)]
        guard let scalar = String(decoding: tail, as: UTF8.self).unicodeScalars.first else {
            return "the end of the file"
        }
        return CharacterName(scalar: scalar).description
    }

    private var atEnd: Bool { offset >= bytes.count }

    private func peek(is byte: UInt8) -> Bool {
        offset < bytes.count && bytes[offset] == byte
    }

    private mutating func skipWhitespace() {
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

    // --- Grammar -----------------------------------------------------------

    private mutating func parseDocument(problems: inout ProblemList) throws(JSONSyntaxError)
        -> JSONNode
    {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw fail("the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one")
        }
        let node = try parseValue(depth: 0, problems: &problems)
        skipWhitespace()
        if !atEnd {
            throw fail(
                "unexpected \(found) after the end of the JSON value that starts at \(located(node.position)); "
                    + "the file must hold exactly one JSON value"
            )
        }
        return node
    }

    private mutating func parseValue(depth: Int, problems: inout ProblemList) throws(JSONSyntaxError)
        -> JSONNode
    {
        skipWhitespace()
        guard !atEnd else { throw fail("unexpected end of the file: expected a JSON value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1, problems: &problems)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1, problems: &problems)
        case UInt8(ascii: "\""):
            let start = here
            return JSONNode(position: start, value: .string(try parseString()), children: [])
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = here
            return JSONNode(position: start, value: .number(try parseNumber()), children: [])
        default:
            let start = here
            return JSONNode(position: start, value: try parseLiteral(), children: [])
        }
    }

    private mutating func enter(depth: Int) throws(JSONSyntaxError) {
        if depth > Self.maximumDepth {
            throw fail(
                "arrays and objects are nested more than \(Self.maximumDepth) levels deep here; flatten the structure"
            )
        }
    }

    private mutating func parseObject(depth: Int, problems: inout ProblemList) throws(JSONSyntaxError)
        -> JSONNode
    {
        let start = here
        try enter(depth: depth)
        offset += 1
        var members: [JSONMember] = []
        var children: [JSONNode] = []
        var firstSeen: [[UInt8]: JSONPosition] = [:]
        skipWhitespace()
        if peek(is: UInt8(ascii: "}")) {
            offset += 1
            return JSONNode(position: start, value: .object([]), children: [])
        }
        while true {
            skipWhitespace()
            let keyPosition = here
            guard peek(is: UInt8(ascii: "\"")) else {
                throw expectedKey(objectStart: start)
            }
            let key = try parseString()
            let keyBytes = Array(key.utf8)
            if let first = firstSeen[keyBytes] {
                problems.add(
                    "duplicate key \(QuotedText(key)) (already at \(located(first))); a key may appear only once in an object",
                    line: keyPosition.line, column: column(of: keyPosition))
            } else {
                firstSeen[keyBytes] = keyPosition
            }
            skipWhitespace()
            guard peek(is: UInt8(ascii: ":")) else {
                throw fail("expected ':' after the key \(QuotedText(key)), found \(found)")
            }
            offset += 1
            let child = try parseValue(depth: depth, problems: &problems)
            members.append(JSONMember(key: key, value: child.value))
            children.append(child)
            if try commaOrClose(UInt8(ascii: "}"), afterValueOf: key, start: start) {
                return JSONNode(position: start, value: .object(members), children: children)
            }
        }
    }

    /// After an object member or array element: consumes a ',' (false) or
    /// the closing bracket (true); anything else, a trailing comma
    /// included, is the syntax error.
    private mutating func commaOrClose(
        _ close: UInt8, afterValueOf key: String?, start: JSONPosition
    ) throws(JSONSyntaxError) -> Bool {
        let closing = Character(Unicode.Scalar(close))
        skipWhitespace()
        guard !atEnd else {
            let container = key == nil ? "array" : "object"
            throw fail(
                "unexpected end of the file: the \(container) that starts at \(located(start)) is not closed; expected ',' or '\(closing)'"
            )
        }
        switch bytes[offset] {
        case UInt8(ascii: ","):
            let comma = here
            offset += 1
            skipWhitespace()
            if peek(is: close) {
                throw fail("trailing comma before '\(closing)'; remove this ','", at: comma)
            }
            return false
        case close:
            offset += 1
            return true
        case UInt8(ascii: "\"") where key != nil:
            throw fail("missing ',' between the value of \(QuotedText(key ?? "")) and the next key")
        default:
            guard let key else {
                throw fail("expected ',' or '\(closing)' after an array element, found \(found)")
            }
            throw fail("expected ',' or '\(closing)' after the value of \(QuotedText(key)), found \(found)")
        }
    }

    private func expectedKey(objectStart: JSONPosition) -> JSONSyntaxError {
        guard !atEnd else {
            return fail(
                "unexpected end of the file: the object that starts at \(located(objectStart)) is not closed"
            )
        }
        switch bytes[offset] {
        case UInt8(ascii: "'"):
            return fail("keys must be in double quotes, not single quotes")
        case UInt8(ascii: "/"):
            return fail("comments are not allowed in JSON; remove them")
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "_"):
            return fail("keys must be strings in double quotes, e.g. \"name\": ...")
        default:
            return fail("expected a key in double quotes, found \(found)")
        }
    }

    private mutating func parseArray(depth: Int, problems: inout ProblemList) throws(JSONSyntaxError)
        -> JSONNode
    {
        let start = here
        try enter(depth: depth)
        offset += 1
        var values: [JSONValue] = []
        var children: [JSONNode] = []
        skipWhitespace()
        if peek(is: UInt8(ascii: "]")) {
            offset += 1
            return JSONNode(position: start, value: .array([]), children: [])
        }
        while true {
            let child = try parseValue(depth: depth, problems: &problems)
            values.append(child.value)
            children.append(child)
            if try commaOrClose(UInt8(ascii: "]"), afterValueOf: nil, start: start) {
                return JSONNode(position: start, value: .array(values), children: children)
            }
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = here
        offset += 1
        var buffer: [UInt8] = []
        var runStart = offset
        while true {
            guard offset < bytes.count else {
                throw fail(
                    "the string that starts at \(located(start)) is never closed; add the closing '\"'",
                    at: start)
            }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                buffer.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                buffer.append(contentsOf: bytes[runStart..<offset])
                try parseEscape(into: &buffer)
                runStart = offset
            case 0x0A:
                throw fail("a string cannot span lines; write a line break inside a string as \\n")
            case 0x00..<0x20:
                throw fail(
                    "\(found) inside a string; control characters must be written as escapes such as \\t or \\u0000"
                )
            default:
                offset += 1
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        let escape = here
        offset += 1
        guard offset < bytes.count else {
            throw fail("unexpected end of the file after '\\' in a string", at: escape)
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
            throw fail(
                "invalid escape '\\' followed by \(found); the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
                at: escape)
        }
        offset += 1
        let unit = try hexQuad(escape: escape)
        var scalarValue = UInt32(unit)
        if (0xD800...0xDBFF).contains(unit) {
            guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                bytes[offset + 1] == UInt8(ascii: "u")
            else {
                throw fail(
                    "\\u\(hex(unit)) is the first half of a surrogate pair but no \\uDC00-\\uDFFF escape follows it",
                    at: escape)
            }
            let second = here
            offset += 2
            let low = try hexQuad(escape: second)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw fail(
                    "\\u\(hex(unit)) must be followed by a low surrogate \\uDC00-\\uDFFF, found \\u\(hex(low))",
                    at: second)
            }
            scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(unit) {
            throw fail(
                "\\u\(hex(unit)) is the second half of a surrogate pair without a first half; it is not a character",
                at: escape)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            throw fail("\\u\(hex(unit)) is not a Unicode character", at: escape)
        }
        buffer.append(contentsOf: Array(String(scalar).utf8))
    }

    private mutating func hexQuad(escape: JSONPosition) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else {
                throw fail("unexpected end of the file in a \\u escape", at: escape)
            }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw fail("a \\u escape needs exactly four hex digits, found \(found)")
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    private func hex(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    private func isDigit(_ i: Int) -> Bool {
        i < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i])
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") {
            offset += 1
            guard isDigit(offset) else { throw fail("expected a digit after '-', found \(found)") }
        }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if isDigit(offset) {
                throw fail("numbers cannot have leading zeros; write the number without them")
            }
        } else {
            while isDigit(offset) { offset += 1 }
        }
        if peek(is: UInt8(ascii: ".")) {
            offset += 1
            guard isDigit(offset) else {
                throw fail("expected a digit after the decimal point, found \(found)")
            }
            while isDigit(offset) { offset += 1 }
        }
        if peek(is: UInt8(ascii: "e")) || peek(is: UInt8(ascii: "E")) {
            offset += 1
            if peek(is: UInt8(ascii: "+")) || peek(is: UInt8(ascii: "-")) { offset += 1 }
            guard isDigit(offset) else { throw fail("expected a digit in the exponent, found \(found)") }
            while isDigit(offset) { offset += 1 }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func parseLiteral() throws(JSONSyntaxError) -> JSONValue {
        let start = here
        var end = offset
        while end < bytes.count, end - offset < 32, Self.isWordByte(bytes[end]) { end += 1 }
        let word = String(decoding: bytes[offset..<end], as: UTF8.self)
        switch word {
        case "true":
            offset = end
            return .bool(true)
        case "false":
            offset = end
            return .bool(false)
        case "null":
            offset = end
            return .null
        case "True", "TRUE", "False", "FALSE", "Null", "NULL", "None", "nil", "undefined":
            throw fail(
                "\(QuotedText(word)) is not JSON; the literals are true, false and null (lowercase)",
                at: start)
        case "NaN", "Infinity":
            throw fail("\(QuotedText(word)) is not a JSON number; write a number or a string", at: start)
        default:
            break
        }
        switch bytes[offset] {
        case UInt8(ascii: "'"):
            throw fail("strings must be in double quotes, not single quotes")
        case UInt8(ascii: "/"):
            throw fail("comments are not allowed in JSON; remove them")
        case UInt8(ascii: "+"), UInt8(ascii: "."):
            throw fail("numbers cannot start with \(found); write e.g. 0.5 or 5")
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            throw fail("expected a JSON value, found \(found)")
        default:
            if !word.isEmpty {
                throw fail("unexpected \(QuotedText(word)); strings must be in double quotes")
            }
            throw fail("expected a JSON value, found \(found)")
        }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}

/// Where a JSON value or error is: byte offset, 1-based line, and the offset
/// where that line starts (the column is counted from it when needed).
struct JSONPosition: Equatable {
    let offset: Int
    let line: Int
    let lineStart: Int

    /// The 1-based column in `text` (the parsed text), counted in Unicode
    /// scalars. Computed on demand: doing it for every value would make a
    /// long single-line file quadratic.
    func column(in text: String) -> Int {
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: lineStart)
        let end = utf8.index(utf8.startIndex, offsetBy: offset)
        return text.unicodeScalars[start..<end].count + 1
    }
}

/// A parsed JSON value with where it starts, and the same for its array
/// elements or object member values (in order), so later checks can point
/// at the element that is wrong.
struct JSONNode {
    let position: JSONPosition
    let value: JSONValue
    let children: [JSONNode]
}

/// The first syntax error, which ends parsing.
struct JSONSyntaxError: Error {
    let message: String
    let position: JSONPosition
}
