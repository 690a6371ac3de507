import Queue
import Testing

/// Builds ``JSONValue``s and records where every value starts, through the
/// public builder interface only (what a new caller of the parser would write).
private struct RecordingBuilder: JSONBuilder {
    var starts: [JSONPosition] = []
    var numbers: [(text: String, isInteger: Bool)] = []
    var refuseNumbers = false

    mutating func string(_ text: String, at position: JSONPosition) -> JSONValue {
        starts.append(position)
        return .string(text)
    }

    mutating func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition) -> JSONValue? {
        starts.append(position)
        let literal = String(decoding: text, as: UTF8.self)
        numbers.append((literal, isInteger))
        return refuseNumbers ? nil : .number(literal)
    }

    mutating func bool(_ value: Bool, at position: JSONPosition) -> JSONValue {
        starts.append(position)
        return .bool(value)
    }

    mutating func null(at position: JSONPosition) -> JSONValue {
        starts.append(position)
        return .null
    }

    mutating func beginObject(at position: JSONPosition) -> [(JSONMember, JSONPosition)] {
        starts.append(position)
        return []
    }

    func addMember(
        _ key: String, at keyPosition: JSONPosition, value: JSONValue, to object: inout [(JSONMember, JSONPosition)]
    ) -> JSONMemberInsertion {
        let first = object.first { $0.0.key.utf8.elementsEqual(key.utf8) }?.1
        object.append((JSONMember(key: key, value: value), keyPosition))
        return first.map { .duplicate(firstAt: $0) } ?? .inserted
    }

    func endObject(_ object: [(JSONMember, JSONPosition)], at position: JSONPosition) -> JSONValue {
        .object(object.map(\.0))
    }

    mutating func beginArray(at position: JSONPosition) -> [JSONValue] {
        starts.append(position)
        return []
    }

    func append(_ value: JSONValue, to array: inout [JSONValue]) { array.append(value) }

    func endArray(_ array: [JSONValue], at position: JSONPosition) -> JSONValue { .array(array) }
}

private let strict = JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .refuse)
private let lenient = JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace)

/// Parses `text`; the value or the error, and the parser afterwards.
private func parse(
    _ text: String, policy: JSONPolicy = strict, builder: RecordingBuilder = RecordingBuilder()
) -> (result: Result<JSONValue, JSONSyntaxError>, parser: JSONParser<RecordingBuilder>) {
    parse(bytes: Array(text.utf8), policy: policy, builder: builder)
}

private func parse(
    bytes: [UInt8], policy: JSONPolicy = strict, builder: RecordingBuilder = RecordingBuilder()
) -> (result: Result<JSONValue, JSONSyntaxError>, parser: JSONParser<RecordingBuilder>) {
    bytes.withUnsafeBufferPointer { buffer in
        var parser = JSONParser(bytes: buffer, policy: policy, builder: builder)
        do throws(JSONSyntaxError) {
            return (.success(try parser.parseDocument()), parser)
        } catch {
            return (.failure(error), parser)
        }
    }
}

private func value(_ text: String, policy: JSONPolicy = strict) -> JSONValue? {
    try? parse(text, policy: policy).result.get()
}

private func failure(_ text: String, policy: JSONPolicy = strict) -> JSONSyntaxError? {
    if case .failure(let error) = parse(text, policy: policy).result { return error }
    return nil
}

@Suite("The strict JSON parser")
struct JSONParserTests {
    // --- Positions ----------------------------------------------------------

    @Test("every value starts at its byte offset, line and line start")
    func valuePositions() throws {
        let text = "{\n  \"a\": [1,\n\ttrue], \"é\": null\n}"
        let (result, parser) = parse(text)
        _ = try result.get()
        let starts = parser.builder.starts.map { [$0.offset, $0.line, $0.lineStart] }
        // The object, the array, 1, true, null (the key "é" is two bytes).
        #expect(starts == [[0, 1, 0], [9, 2, 2], [10, 2, 2], [14, 3, 13], [27, 3, 13]])
    }

    @Test("an error's column counts Unicode scalars, its offset bytes")
    func errorPositions() throws {
        let error = try #require(failure("[\"ünï\",\n  \"😀\", x]"))
        #expect(error.position.line == 2)
        #expect(error.column == 8)
        #expect(error.position.offset == Array("[\"ünï\",\n  \"😀\", ".utf8).count)
        #expect(error.description == "line 2, column 8: unexpected \"x\"; strings must be in double quotes")
    }

    // --- Duplicate keys -----------------------------------------------------

    @Test("refused duplicate keys stop at the second occurrence and name the first")
    func duplicateKeysRefused() throws {
        let error = try #require(failure("{\"a\": 1,\n \"b\": {}, \"a\": 2}"))
        #expect(error.position.line == 2 && error.column == 11)
        #expect(
            error.message
                == "duplicate key \"a\" (already at line 1, column 2); a key may appear only once in an object")
        #expect(value(#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}"#) != nil)
    }

    @Test("reported duplicate keys are all recorded, up to the limit, and parsing goes on")
    func duplicateKeysReported() throws {
        let members = (0..<5).map { _ in "\"k\": 0" }.joined(separator: ", ")
        let policy = JSONPolicy(duplicateKeys: .report(limit: 3), loneSurrogates: .refuse)
        let (result, parser) = parse("{\(members), \"other\": [1]}", policy: policy)
        #expect(throws: Never.self) { try result.get() }
        #expect(parser.duplicates.count == 3)
        #expect(parser.omittedDuplicates == 1)
        #expect(parser.duplicates.map(\.position.offset) == [9, 17, 25])
        #expect(parser.duplicates.allSatisfy { $0.key == "k" && $0.firstPosition?.offset == 1 })
    }

    // --- Strings and surrogates ---------------------------------------------

    @Test("escapes and surrogate pairs decode; raw UTF-8 passes through")
    func escapes() {
        #expect(value(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00 é""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé€😀 é"))
    }

    @Test(
        "lone surrogate escapes are refused or replaced, as the policy says",
        arguments: [
            (#""\ud800""#, "\u{FFFD}"), (#""\udc00x""#, "\u{FFFD}x"), (#""\ud800\u0041""#, "\u{FFFD}A"),
            (#""\udbff\udbff\udfff""#, "\u{FFFD}\u{10FFFF}"),
        ])
    func loneSurrogates(text: String, replaced: String) {
        #expect(value(text, policy: lenient) == .string(replaced))
        #expect(failure(text, policy: strict)?.message.contains("surrogate") == true)
    }

    @Test("invalid UTF-8 inside a string becomes U+FFFD rather than failing")
    func invalidUTF8() throws {
        let (result, _) = parse(bytes: [0x22, 0x61, 0xFF, 0xC3, 0x22])
        #expect(try result.get() == .string("a\u{FFFD}\u{FFFD}"))
    }

    @Test("a raw control character or line break in a string is refused where it is")
    func rawControls() {
        #expect(failure("[\"a\u{1B}b\"]")?.column == 4)
        #expect(failure("\"a\nb\"")?.message.hasPrefix("a string cannot span lines") == true)
        #expect(failure("\"abc")?.message.contains("never closed") == true)
    }

    // --- Depth --------------------------------------------------------------

    @Test("64 levels nest; the 65th bracket is refused at its own offset, however long the input")
    func depth() throws {
        let limit = JSONLimits.maximumDepth
        #expect(value(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) != nil)
        let nested = String(repeating: "{\"a\":", count: limit) + "1" + String(repeating: "}", count: limit)
        #expect(value(nested) != nil)
        let hostile = String(repeating: "[", count: 1 << 20)
        let error = try #require(failure(hostile))
        #expect(error.position.offset == limit)
        #expect(error.message.contains("nested more than 64 levels"))
    }

    // --- Numbers ------------------------------------------------------------

    @Test("numbers keep their literal text and say whether they are integers")
    func numbers() throws {
        let (result, parser) = parse("[0, -0, 12345678901234567890, 1.5, -2e10, 3E+2, 4.0e-1]")
        _ = try result.get()
        #expect(
            parser.builder.numbers.map(\.text) == ["0", "-0", "12345678901234567890", "1.5", "-2e10", "3E+2", "4.0e-1"])
        #expect(parser.builder.numbers.map(\.isInteger) == [true, true, true, false, false, false, false])
    }

    @Test(
        "malformed numbers are refused at the offending character",
        arguments: [
            ("01", 1, "leading zeros"), ("-", 1, "after '-'"), ("-a", 1, "after '-'"), ("1.", 2, "decimal point"),
            ("1.e5", 2, "decimal point"), ("1e", 2, "exponent"), ("1e+", 3, "exponent"),
            ("+1", 0, "cannot start with '+'"),
            (".5", 0, "cannot start with '.'"), ("NaN", 0, "not a JSON number"), ("1 2", 2, "exactly one JSON value"),
        ])
    func malformedNumbers(text: String, offset: Int, reason: String) throws {
        let error = try #require(failure(text))
        #expect(error.position.offset == offset)
        #expect(error.message.contains(reason))
    }

    @Test("a number the builder cannot represent is refused, not turned into something else")
    func unrepresentableNumber() throws {
        var builder = RecordingBuilder()
        builder.refuseNumbers = true
        let (result, _) = parse("[1]", builder: builder)
        #expect(throws: JSONSyntaxError.self) { try result.get() }
    }

    // --- Literals and structure -----------------------------------------------

    @Test("literals are exact words; near misses are named")
    func literals() {
        #expect(value("[true,false,null]") == .array([.bool(true), .bool(false), .null]))
        #expect(failure("truely")?.message == "unexpected \"truely\"; strings must be in double quotes")
        #expect(failure("None")?.message.contains("the literals are true, false and null") == true)
        #expect(failure("nul")?.message == "unexpected \"nul\"; strings must be in double quotes")
    }

    @Test("a byte order mark, an empty text and trailing text are refused")
    func document() {
        #expect(failure("\u{FEFF}1")?.message.contains("byte order mark") == true)
        #expect(failure("")?.message == "unexpected end of the file: expected a JSON value")
        #expect(failure("  ")?.message == "unexpected end of the file: expected a JSON value")
        #expect(failure("{}x")?.message.contains("exactly one JSON value") == true)
        #expect(value(" \t\r\n{} \n") == .object([]))
    }
}
