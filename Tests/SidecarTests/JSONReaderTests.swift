import Testing

@testable import Sidecar

@Suite("Reading JSON-RPC bodies")
struct JSONReaderTests {
    @Test("objects, arrays, strings, numbers and literals become JSON values; numbers keep their literal text")
    func values() throws {
        let value = try JSONReader.value(
            of: Array(
                #" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"}, "big": 12345678901234567890} "#.utf8))
        #expect(
            value
                == .object([
                    "a": [1, -2, .number("3.5"), .number("1e3"), true, false, .null],
                    "b": ["c": "d"],
                    "big": .number("12345678901234567890"),
                ]))
        #expect(value.keys == ["a", "b", "big"])
        #expect(value["big"]?.integerValue == nil)
    }

    @Test("a duplicate key is one with the same bytes: an escaped spelling is refused, a canonically equal one is not")
    func duplicateKeysByBytes() throws {
        // "a" and "\u0061" decode to the same byte: one key written twice.
        #expect(throws: JSONReader.Failure.self) { try JSONReader.value(of: Array(#"{"a":1,"\u0061":2}"#.utf8)) }
        // Precomposed and decomposed "é" are different bytes: two keys, both kept, in order.
        let accents = try JSONReader.value(of: Array(#"{"\u00e9":1,"e\u0301":2}"#.utf8))
        #expect(accents.keys.map { Array($0.utf8) } == [[0xC3, 0xA9], [0x65, 0xCC, 0x81]])
        // Past the size where keys go into a set, the rule is the same.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(try JSONReader.value(of: Array("{\(many)}".utf8)).keys.count == 40)
        #expect(throws: JSONReader.Failure.self) {
            try JSONReader.value(of: Array("{\(many),\"k\\u0033\\u0039\":0}".utf8))
        }
    }

    @Test("escapes, surrogate pairs and raw UTF-8 are decoded; a lone surrogate becomes U+FFFD")
    func strings() throws {
        let text = #""tab\t quote\" slash\/ \u00e9 \ud83d\ude00 é \ud800x""#
        #expect(try JSONReader.value(of: Array(text.utf8)) == .string("tab\t quote\" slash/ é 😀 é \u{FFFD}x"))
    }

    @Test("a justification that looks like a data URL stays a string")
    func dataURL() throws {
        let message = try RPCMessage.decode(
            Array(
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"justification":"data:text/plain;base64,aGk="}}}"#
                    .utf8)
        ).get()
        #expect(message.params["arguments"]?["justification"] == .string("data:text/plain;base64,aGk="))
    }

    @Test(
        "malformed text is refused with where it went wrong",
        arguments: [
            ("{", "the object that starts at line 1, column 1 is not closed"), (#"{"a" 1}"#, "expected ':'"),
            ("[1,]", "trailing comma before ']'"), ("01", "leading zeros"), ("\"a\u{01}\"", "control character"),
            ("1.", "expected a digit"), (#""\x""#, "invalid escape"), ("{} {}", "after the end of the JSON value"),
            ("tru", #"unexpected "tru""#), (#"{"a":1,"a":2}"#, #"duplicate key "a""#),
        ])
    func malformed(text: String, reason: String) {
        #expect {
            try JSONReader.value(of: Array(text.utf8))
        } throws: { error in
            (error as? JSONReader.Failure)?.reason.contains(reason) == true
        }
    }

    @Test("nesting is capped, so a hostile body cannot exhaust the stack")
    func depth() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect {
            try JSONReader.value(of: Array(deep.utf8))
        } throws: { error in
            (error as? JSONReader.Failure)?.reason.contains("nested more than 64 levels") == true
        }
        let fine =
            String(repeating: "[", count: JSONReader.maximumDepth)
            + String(repeating: "]", count: JSONReader.maximumDepth)
        _ = try JSONReader.value(of: Array(fine.utf8))
    }

    @Test("a body that is not JSON gets -32700 saying where, with agent text escaped")
    func parseErrorMessage() {
        func failure(_ text: String) -> RPCFailure? {
            if case .failure(let failure) = RPCMessage.decode(Array(text.utf8)) { return failure }
            return nil
        }
        #expect(
            failure(#"{"a" 1}"#)?.error.message
                == #"parse error: body is not valid JSON: line 1, column 6 (byte 5): expected ':' after the key "a", found '1'"#
        )
        let duplicate = failure(#"{"jsonrpc":"2.0","id":1,"method":"ping","id":2}"#)
        #expect(duplicate?.error.code == -32700)
        #expect(duplicate?.error.message.contains(#"duplicate key "id""#) == true)
        let hostile = failure(#"{"\u001b]0;owned\u0007":1,"\u001b]0;owned\u0007":2}"#)?.error.message ?? ""
        #expect(hostile.contains("duplicate key"))
        #expect(!hostile.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test("the envelope's faults get the seed's codes, with the id when it was readable")
    func envelope() {
        func failure(_ text: String) -> RPCFailure? {
            if case .failure(let failure) = RPCMessage.decode(Array(text.utf8)) { return failure }
            return nil
        }
        #expect(failure("{nope")?.error.code == -32700)
        #expect(failure("[]")?.error.message.contains("batch requests are not supported") == true)
        #expect(failure("3")?.error.message == "request must be a JSON object")
        #expect(failure(#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#)?.error.code == -32600)
        let version = failure(#"{"jsonrpc":"1.0","id":"x","method":"ping"}"#)
        #expect(version?.error.code == -32600)
        #expect(version?.id == .string("x"))
        #expect(failure(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":[1]}"#)?.error.code == -32602)
    }
}
