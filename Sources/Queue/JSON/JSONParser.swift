/// The one strict JSON parser (RFC 8259) of Bottle Supervise, shared by the
/// sidecar's JSON-RPC reader and the routes.json validator so the two cannot
/// disagree about what a text means.
///
/// The grammar is here once; a ``JSONBuilder`` chooses the values built and a
/// ``JSONPolicy`` what happens to duplicate keys and lone surrogate escapes.
/// Nesting is capped at ``JSONLimits/maximumDepth`` so a hostile `[[[[…`
/// cannot exhaust the stack, and every step is linear in the input. The first
/// syntax error ends parsing with a ``JSONSyntaxError`` that says where and
/// what to write instead.
public struct JSONParser<Builder: JSONBuilder> {
    @usableFromInline var tokenizer: JSONTokenizer
    @usableFromInline let duplicateKeys: JSONPolicy.DuplicateKeys
    /// The builder, with whatever it accumulated.
    public var builder: Builder
    /// The duplicate keys recorded under ``JSONPolicy/DuplicateKeys/report(limit:)``,
    /// in the order met (at most `limit`); kept after a syntax error too.
    public internal(set) var duplicates: [JSONDuplicateKey] = []
    /// Duplicates met after the limit was reached.
    public internal(set) var omittedDuplicates = 0

    /// A parser of `bytes` (UTF-8; invalid sequences inside strings become
    /// U+FFFD). `bytes` must stay valid while the parser is used.
    @inlinable
    public init(bytes: UnsafeBufferPointer<UInt8>, policy: JSONPolicy, builder: Builder) {
        self.tokenizer = JSONTokenizer(bytes: bytes, loneSurrogates: policy.loneSurrogates)
        self.duplicateKeys = policy.duplicateKeys
        self.builder = builder
    }

    /// Parses the whole text as exactly one JSON value (whitespace around it
    /// allowed, nothing else).
    @inlinable
    public mutating func parseDocument() throws(JSONSyntaxError) -> Builder.Value {
        let bytes = tokenizer.bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw tokenizer.failure(
                "the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one")
        }
        tokenizer.skipWhitespace()
        let start = tokenizer.here
        let value = try parseValue(depth: 0)
        tokenizer.skipWhitespace()
        if !tokenizer.atEnd { throw textAfterTheValue(start: start) }
        return value
    }

    @inlinable
    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> Builder.Value {
        tokenizer.skipWhitespace()
        guard !tokenizer.atEnd else {
            throw tokenizer.failure("unexpected end of the file: expected a JSON value")
        }
        let start = tokenizer.here
        switch tokenizer.bytes[tokenizer.offset] {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return builder.string(try tokenizer.string(), at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try tokenizer.number()
            guard let value = builder.number(number.text, isInteger: number.isInteger, at: start) else {
                throw tokenizer.failure("the number cannot be represented; write a smaller one", at: start)
            }
            return value
        default:
            guard let bool = try tokenizer.literal() else { return builder.null(at: start) }
            return builder.bool(bool, at: start)
        }
    }

    @inlinable
    mutating func enter(depth: Int) throws(JSONSyntaxError) {
        if depth > JSONLimits.maximumDepth {
            throw tokenizer.failure(
                "arrays and objects are nested more than \(JSONLimits.maximumDepth) levels deep here; flatten the structure"
            )
        }
    }

    @inlinable
    mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> Builder.Value {
        let start = tokenizer.here
        try enter(depth: depth)
        tokenizer.offset += 1
        var object = builder.beginObject(at: start)
        tokenizer.skipWhitespace()
        if tokenizer.peek(is: UInt8(ascii: "}")) {
            tokenizer.offset += 1
            return builder.endObject(object, at: start)
        }
        while true {
            tokenizer.skipWhitespace()
            let keyPosition = tokenizer.here
            guard tokenizer.peek(is: UInt8(ascii: "\"")) else { throw expectedKey(objectStart: start) }
            let key = try tokenizer.string()
            tokenizer.skipWhitespace()
            guard tokenizer.peek(is: UInt8(ascii: ":")) else { throw expectedColon(after: key) }
            tokenizer.offset += 1
            let value = try parseValue(depth: depth)
            if case .duplicate(let first) = builder.addMember(key, at: keyPosition, value: value, to: &object) {
                try duplicate(key, at: keyPosition, first: first)
            }
            if try commaOrClose(UInt8(ascii: "}"), afterValueOf: key, start: start) {
                return builder.endObject(object, at: start)
            }
        }
    }

    @inlinable
    mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> Builder.Value {
        let start = tokenizer.here
        try enter(depth: depth)
        tokenizer.offset += 1
        var array = builder.beginArray(at: start)
        tokenizer.skipWhitespace()
        if tokenizer.peek(is: UInt8(ascii: "]")) {
            tokenizer.offset += 1
            return builder.endArray(array, at: start)
        }
        while true {
            builder.append(try parseValue(depth: depth), to: &array)
            if try commaOrClose(UInt8(ascii: "]"), afterValueOf: nil, start: start) {
                return builder.endArray(array, at: start)
            }
        }
    }

    /// After an object member or array element: consumes a ',' (false) or
    /// the closing bracket (true); anything else, a trailing comma
    /// included, is the syntax error.
    @inlinable
    mutating func commaOrClose(_ close: UInt8, afterValueOf key: String?, start: JSONPosition)
        throws(JSONSyntaxError) -> Bool
    {
        tokenizer.skipWhitespace()
        if tokenizer.peek(is: UInt8(ascii: ",")) {
            let comma = tokenizer.here
            tokenizer.offset += 1
            tokenizer.skipWhitespace()
            if tokenizer.peek(is: close) { throw trailingComma(before: close, at: comma) }
            return false
        }
        if tokenizer.peek(is: close) {
            tokenizer.offset += 1
            return true
        }
        throw neitherCommaNorClose(close, afterValueOf: key, start: start)
    }

    // --- Duplicate keys ----------------------------------------------------

    @usableFromInline
    mutating func duplicate(_ key: String, at position: JSONPosition, first: JSONPosition?)
        throws(JSONSyntaxError)
    {
        switch duplicateKeys {
        case .refuse:
            let already = first.map { " (already at \(tokenizer.located($0)))" } ?? ""
            throw tokenizer.failure(
                "duplicate key \(QuotedText(key))\(already); a key may appear only once in an object", at: position)
        case .report(let limit):
            if duplicates.count < limit {
                duplicates.append(JSONDuplicateKey(key: key, position: position, firstPosition: first))
            } else {
                omittedDuplicates += 1
            }
        }
    }

    // --- Messages (out of line: only the error path builds them) -----------

    @usableFromInline
    func textAfterTheValue(start: JSONPosition) -> JSONSyntaxError {
        tokenizer.failure(
            "unexpected \(tokenizer.found) after the end of the JSON value that starts at \(tokenizer.located(start)); "
                + "the file must hold exactly one JSON value")
    }

    @usableFromInline
    func expectedColon(after key: String) -> JSONSyntaxError {
        tokenizer.failure("expected ':' after the key \(QuotedText(key)), found \(tokenizer.found)")
    }

    @usableFromInline
    func trailingComma(before close: UInt8, at comma: JSONPosition) -> JSONSyntaxError {
        tokenizer.failure("trailing comma before '\(Character(Unicode.Scalar(close)))'; remove this ','", at: comma)
    }

    @usableFromInline
    func neitherCommaNorClose(_ close: UInt8, afterValueOf key: String?, start: JSONPosition) -> JSONSyntaxError {
        let closing = Character(Unicode.Scalar(close))
        guard !tokenizer.atEnd else {
            let container = key == nil ? "array" : "object"
            return tokenizer.failure(
                "unexpected end of the file: the \(container) that starts at \(tokenizer.located(start)) is not closed; expected ',' or '\(closing)'"
            )
        }
        guard let key else {
            return tokenizer.failure("expected ',' or '\(closing)' after an array element, found \(tokenizer.found)")
        }
        if tokenizer.peek(is: UInt8(ascii: "\"")) {
            return tokenizer.failure("missing ',' between the value of \(QuotedText(key)) and the next key")
        }
        return tokenizer.failure(
            "expected ',' or '\(closing)' after the value of \(QuotedText(key)), found \(tokenizer.found)")
    }

    @usableFromInline
    func expectedKey(objectStart: JSONPosition) -> JSONSyntaxError {
        guard !tokenizer.atEnd else {
            return tokenizer.failure(
                "unexpected end of the file: the object that starts at \(tokenizer.located(objectStart)) is not closed"
            )
        }
        switch tokenizer.bytes[tokenizer.offset] {
        case UInt8(ascii: "'"):
            return tokenizer.failure("keys must be in double quotes, not single quotes")
        case UInt8(ascii: "/"):
            return tokenizer.failure("comments are not allowed in JSON; remove them")
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            return tokenizer.failure("keys must be strings in double quotes, e.g. \"name\": ...")
        default:
            return tokenizer.failure("expected a key in double quotes, found \(tokenizer.found)")
        }
    }
}

/// The limits every JSON text is held to, whoever reads it.
public enum JSONLimits {
    /// How deep arrays and objects may nest (the top-level value is level 1).
    public static let maximumDepth = 64
}
