import Testing

@testable import Queue

@Suite("Validation of routes.json")
struct ValidationRoutesTests {
    // --- Accepted files ----------------------------------------------------

    @Test(arguments: [
        #"{"routes": []}"#,
        #"{"routes":[{"path":"/v1/","upstream":"https://api.example.com","header":"Authorization"}]}"#,
        "{\n  \"version\": 2,\n  \"routes\": [\n    {\"path\": \"/a\"},\n    {\"path\": \"/b\"}\n  ]\n}\n",
        #"{"routes": [{"n": -0, "f": 1.5e10, "g": 0.1E-2, "h": 12, "t": true, "u": false, "z": null}]}"#,
        #"{"routes": [{"s": "tab\t quote\" slash\/ back\\ nl\n \u00e9 \ud83d\ude00"}]}"#,
        "\r\n\t {\"routes\": [{\"nested\": {\"deep\": [[1], {\"x\": []}]}}]} \r\n",
        #"{"routes": [{"a": 1, "b": 2}, {"a": 1, "b": 3}]}"#,
    ])
    func wellFormedRoutesAreAccepted(_ content: String) {
        #expect(refusal(content, for: .credProxyBlock) == nil)
    }

    @Test func parsedRoutesKeepOrderLinesAndValues() throws {
        let document = try RoutesDocument.parse(
            """
            {
              "routes": [
                {"path": "/a", "port": 443},
                {"path": "/b", "tags": ["x", "y"]}
              ],
              "comment": "é"
            }
            """)
        #expect(document.routes.count == 2)
        #expect(document.routeLines == [3, 4])
        #expect(document.routes[0]["path"] == .string("/a"))
        #expect(document.routes[0]["port"] == .number("443"))
        #expect(document.routes[1]["tags"] == .array([.string("x"), .string("y")]))
        #expect(document.root["comment"] == .string("é"))
        #expect(document.routes[1].description == #"{"path":"/b","tags":["x","y"]}"#)
    }

    @Test func escapesAreDecoded() throws {
        let document = try RoutesDocument.parse(#"{"routes": [{"s": "a\n\u00e9\ud83d\ude00\/"}]}"#)
        #expect(document.routes[0]["s"] == .string("a\né😀/"))
    }

    @Test func objectEqualityIgnoresMemberOrderButNotNumberSpelling() {
        let ab = JSONValue.object([
            JSONMember(key: "a", value: .number("1")), JSONMember(key: "b", value: .null),
        ])
        let ba = JSONValue.object([
            JSONMember(key: "b", value: .null), JSONMember(key: "a", value: .number("1")),
        ])
        #expect(ab == ba)
        #expect(ab.hashValue == ba.hashValue)
        #expect(JSONValue.number("1") != .number("1.0"))
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        #expect(JSONValue.array([.null, .bool(true)]) != .array([.bool(true), .null]))
    }

    @Test func descriptionIsJSONThatParsesBack() throws {
        let text = #"{"routes":[{"k":"line\nbreak \"q\" \\ \u0001","n":-1.5e3,"e":{},"l":[]}]}"#
        let document = try RoutesDocument.parse(text)
        #expect(try RoutesDocument.parse(document.root.description) == document)
    }

    // --- The shape of a routes file -----------------------------------------

    @Test func topLevelMustBeAnObject() {
        let found = problems("[\n  {\"routes\": []}\n]", for: .credProxyBlock)
        #expect(found.count == 1)
        #expect(found.first?.position == [1, 1])
        #expect(
            found.first?.message.contains("top level must be a JSON object with a \"routes\" array")
                == true)
        #expect(found.first?.message.contains("found an array") == true)
    }

    @Test func routesKeyIsRequired() {
        let found = problems(#"  {"route": []}"#, for: .credProxyBlock)
        #expect(found.map(\.position) == [[1, 3]])
        #expect(found.first?.message.contains("no \"routes\" key") == true)
    }

    @Test func routesMustBeAnArray() {
        let found = problems("{\n  \"routes\": {\"path\": \"/a\"}\n}", for: .credProxyBlock)
        #expect(found.map(\.position) == [[2, 13]])
        #expect(found.first?.message == "\"routes\" must be an array of route objects; found an object")
    }

    @Test func everyRouteMustBeAnObject() {
        let found = problems("{\"routes\": [\n  {},\n  \"/a\",\n  [1],\n  7\n]}", for: .credProxyBlock)
        #expect(found.map(\.position) == [[3, 3], [4, 3], [5, 3]])
        #expect(
            found.map(\.message) == [
                "routes[1] must be an object; found a string",
                "routes[2] must be an object; found an array",
                "routes[3] must be an object; found a number",
            ])
    }

    @Test func duplicateRoutesAreReportedWithBothPlaces() {
        let content = """
            {"routes": [
              {"path": "/a", "upstream": "u"},
              {"path": "/b"},
              {"upstream": "u", "path": "/a"},
              {"path": "/b"}
            ]}
            """
        let found = problems(content, for: .credProxyBlock)
        #expect(found.map(\.position) == [[4, 3], [5, 3]])
        #expect(
            found.first?.message == "routes[2] is identical to routes[0] (line 2); remove one of them")
        #expect(
            found.last?.message == "routes[3] is identical to routes[1] (line 3); remove one of them")
    }

    // --- Duplicate keys -----------------------------------------------------

    @Test func duplicateKeyIsReportedAtTheSecondKey() {
        let content = "{\"routes\": [\n  {\"path\": \"/a\",\n    \"path\": \"/b\"}\n]}"
        let error = refusal(content, for: .credProxyBlock)
        #expect(error?.problems.map(\.position) == [[3, 5]])
        #expect(
            error?.description
                == "cred-proxy-block: routes.json line 3, column 5: duplicate key \"path\" (already at line 2, column 4); a key may appear only once in an object"
        )
    }

    @Test func allDuplicateKeysAreReportedTogether() {
        let content = #"{"routes": [{"a": 1, "a": 2}], "x": {"b": 1, "c": 2, "b": 3}, "routes": []}"#
        let found = problems(content, for: .credProxyBlock)
        #expect(found.count == 3)
        #expect(found.allSatisfy { $0.message.hasPrefix("duplicate key") })
        #expect(
            found.map(\.message).map { $0.split(separator: " ")[2] } == ["\"a\"", "\"b\"", "\"routes\""])
    }

    @Test func sameKeyInDifferentObjectsIsFine() {
        #expect(
            refusal(#"{"routes": [{"a": 1}, {"a": 2}], "a": {"a": {"a": 0}}}"#, for: .credProxyBlock)
                == nil)
    }

    /// Keys equal under NFKC and case folding are one key: a normalising or
    /// case-insensitive reader takes one for the other (issue 21).
    @Test func keysCompareByTheirFoldedForm() {
        #expect(
            refusal("{\"routes\": [{\"\u{E9}\": 1, \"e\u{301}\": 2}]}", for: .credProxyBlock)?.problems.first?.message
                .contains("ignores case or Unicode width") == true)
        #expect(problems(#"{"routes": [{"\u00e9": 1, "é": 2}]}"#, for: .credProxyBlock).count == 1)
    }

    @Test func duplicateKeysBeforeASyntaxErrorAreKept() {
        let found = problems(#"{"a": 1, "a": 2, "routes": [} "#, for: .credProxyBlock)
        #expect(found.count == 2)
        #expect(found[0].message.hasPrefix("duplicate key \"a\""))
        #expect(found[1].message == "expected a JSON value, found '}'")
    }

    @Test func columnsCountCharactersNotBytes() {
        let found = problems(#"{"ünï": 1, "ünï": 2, "routes": []}"#, for: .credProxyBlock)
        #expect(found.map(\.position) == [[1, 12]])
    }

    // --- Syntax errors, each at its line and column -------------------------

    @Test(arguments: [
        ("{\"routes\": [\n    {\"a\": 1,}\n]}", 2, 12, "trailing comma before '}'; remove this ','"),
        ("{\"routes\": [{},\n]}", 1, 15, "trailing comma before ']'; remove this ','"),
        (
            "{\"routes\": [] // cred-proxy\n}", 1, 15,
            "expected ',' or '}' after the value of \"routes\", found '/'"
        ),
        ("{\n  // routes\n  \"routes\": []}", 2, 3, "comments are not allowed in JSON; remove them"),
        ("{'routes': []}", 1, 2, "keys must be in double quotes, not single quotes"),
        ("{routes: []}", 1, 2, "keys must be strings in double quotes, e.g. \"name\": ..."),
        ("{\"routes\": ['a']}", 1, 13, "strings must be in double quotes, not single quotes"),
        (
            "{\"routes\": [], \"on\": True}", 1, 22,
            "\"True\" is not JSON; the literals are true, false and null (lowercase)"
        ),
        (
            "{\"routes\": [], \"n\": NaN}", 1, 21,
            "\"NaN\" is not a JSON number; write a number or a string"
        ),
        (
            "{\"routes\": [], \"n\": 007}", 1, 22,
            "numbers cannot have leading zeros; write the number without them"
        ),
        ("{\"routes\": [], \"n\": -}", 1, 22, "expected a digit after '-', found '}'"),
        ("{\"routes\": [], \"n\": 1.}", 1, 23, "expected a digit after the decimal point, found '}'"),
        ("{\"routes\": [], \"n\": 1e}", 1, 23, "expected a digit in the exponent, found '}'"),
        ("{\"routes\": [], \"n\": .5}", 1, 21, "numbers cannot start with '.'; write e.g. 0.5 or 5"),
        ("{\"routes\": [], \"n\": +5}", 1, 21, "numbers cannot start with '+'; write e.g. 0.5 or 5"),
        (
            "{\"routes\": [] \"x\": 1}", 1, 15,
            "missing ',' between the value of \"routes\" and the next key"
        ),
        ("{\"routes\" []}", 1, 11, "expected ':' after the key \"routes\", found '['"),
        ("{\"routes\": [1 2]}", 1, 15, "expected ',' or ']' after an array element, found '2'"),
        (
            "{\"routes\": [], \"s\": \"abc}", 1, 21,
            "the string that starts at line 1, column 21 is never closed; add the closing '\"'"
        ),
        (
            "{\"routes\": [], \"s\": \"a\nb\"}", 1, 23,
            "a string cannot span lines; write a line break inside a string as \\n"
        ),
        (
            "{\"routes\": [], \"s\": \"a\tb\"}", 1, 23,
            "a tab inside a string; control characters must be written as escapes such as \\t or \\u0000"
        ),
        (
            "{\"routes\": [], \"s\": \"a\\qb\"}", 1, 23,
            "invalid escape '\\' followed by 'q'; the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX"
        ),
        (
            "{\"routes\": [], \"s\": \"\\u12G4\"}", 1, 26,
            "a \\u escape needs exactly four hex digits, found 'G'"
        ),
        (
            "{\"routes\": [], \"s\": \"\\ud800\"}", 1, 22,
            "\\uD800 is the first half of a surrogate pair but no \\uDC00-\\uDFFF escape follows it"
        ),
        (
            "{\"routes\": [], \"s\": \"\\udc00\"}", 1, 22,
            "\\uDC00 is the second half of a surrogate pair without a first half; it is not a character"
        ),
        (
            "{\"routes\": [], \"s\": \"\\ud800\\u0041\"}", 1, 28,
            "\\uD800 must be followed by a low surrogate \\uDC00-\\uDFFF, found \\u0041"
        ),
        (
            "{\"routes\": []}\n{\"routes\": []}", 2, 1,
            "unexpected '{' after the end of the JSON value that starts at line 1, column 1; the file must hold exactly one JSON value"
        ),
        ("{\"routes\": [\n", 2, 1, "unexpected end of the file: expected a JSON value"),
        (
            "{\"routes\": [1", 1, 14,
            "unexpected end of the file: the array that starts at line 1, column 12 is not closed; expected ',' or ']'"
        ),
        (
            "{\"routes\": []", 1, 14,
            "unexpected end of the file: the object that starts at line 1, column 1 is not closed; expected ',' or '}'"
        ),
        (
            "\u{FEFF}{\"routes\": []}", 1, 1,
            "the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one"
        ),
        (
            "{\"routes\": []}\u{0}", 1, 15,
            "unexpected U+0000 (an invisible or control character) after the end of the JSON value that starts at line 1, column 1; the file must hold exactly one JSON value"
        ),
        (
            "{\"routes\": [], \"s\": \"a\u{0}\"}", 1, 23,
            "U+0000 (an invisible or control character) inside a string; control characters must be written as escapes such as \\t or \\u0000"
        ),
        (
            "{\"routes\":\u{A0}[]}", 1, 11,
            "expected a JSON value, found U+00A0 (an invisible or control character)"
        ),
        (
            "{\"routes\": [], \"x\": undefined}", 1, 21,
            "\"undefined\" is not JSON; the literals are true, false and null (lowercase)"
        ),
        ("{\"routes\": [], \"x\": yes}", 1, 21, "unexpected \"yes\"; strings must be in double quotes"),
    ])
    func syntaxErrorIsReportedWhereItIs(_ content: String, line: Int, column: Int, message: String) {
        let found = problems(content, for: .credProxyBlock)
        #expect(found.count == 1)
        #expect(found.first?.message == message)
        #expect(found.first?.position == [line, column])
    }

    @Test func agentTextInMessagesIsEscaped() {
        let key = #""\u001b]0;pwned\u0007""#
        let error = refusal("{\(key): 1, \(key): 2, \"routes\": []}", for: .credProxyBlock)
        let text = error?.description ?? ""
        #expect(text.contains("duplicate key \"\\e]0;pwned\\x07\""))
        #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" })
    }

    // --- Nesting ------------------------------------------------------------

    @Test func nestingUpToTheLimitIsAccepted() {
        // The top-level object, "routes" and the route take three levels.
        let depth = StrictJSONParser.maximumDepth - 3
        let value = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(refusal("{\"routes\": [{\"x\": \(value)}]}", for: .credProxyBlock) == nil)
    }

    @Test func nestingBeyondTheLimitIsRefusedAtTheBracket() {
        let depth = StrictJSONParser.maximumDepth - 2
        let value = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let content = "{\"routes\": [{\"x\": \(value)}]}"
        let found = problems(content, for: .credProxyBlock)
        #expect(found.map(\.position) == [[1, 18 + depth]])
        #expect(
            found.first?.message
                == "arrays and objects are nested more than 64 levels deep here; flatten the structure")
    }

    @Test func aMebibyteOfOpeningBracketsStopsAtTheDepthLimit() {
        let content = String(repeating: "[", count: ProposedFileValidator.maximumSize)
        let found = problems(content, for: .credProxyBlock)
        #expect(found.map(\.position) == [[1, 65]])
    }

    @Test func aMebibyteOfOpeningBracesStopsAtTheDepthLimit() {
        let content = String(repeating: "{\"a\":", count: ProposedFileValidator.maximumSize / 5)
        let found = problems(content, for: .credProxyBlock)
        #expect(found.map(\.position) == [[1, 321]])
    }
}
