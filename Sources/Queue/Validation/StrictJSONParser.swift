/// The validator's use of the shared ``JSONParser``: a tree of
/// ``JSONNode``s that remember where each value starts, so routes checks can
/// point at the element that is wrong.
///
/// Policy for a file that will be applied verbatim to a service whose JSON
/// reader we do not control (cred-proxy): duplicate keys are ambiguous (one
/// reader keeps the first, another the last), so every one is reported, each
/// at the second occurrence with the position of the first; a lone surrogate
/// escape is not a character, so it is refused rather than repaired into
/// something the operator did not review. Two keys count as the same when
/// they are equal under ``KeyFolding`` (case and Unicode compatibility
/// folding): a case-insensitive reader such as Go's `encoding/json` takes
/// `"Upstream"` or `"ｕｐｓｔｒｅａｍ"` for `"upstream"`.
enum StrictJSONParser {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = JSONLimits.maximumDepth

    /// Parses `text` as one JSON value. Duplicate keys are collected into
    /// `problems` and parsing goes on; the first syntax error is added to
    /// `problems` and ends parsing with `nil`.
    static func parse(_ text: String, problems: inout ProblemList) -> JSONNode? {
        var text = text
        let builder = NodeBuilder()
        return text.withUTF8 { bytes in
            var parser = JSONParser(
                bytes: bytes,
                policy: JSONPolicy(
                    duplicateKeys: .report(limit: ValidationError.problemLimit), loneSurrogates: .refuse),
                builder: builder)
            let result: Result<JSONNode, JSONSyntaxError>
            do throws(JSONSyntaxError) {
                result = .success(try parser.parseDocument())
            } catch {
                result = .failure(error)
            }
            for duplicate in parser.duplicates {
                let first = builder.firstSpellings.byOffset[duplicate.position.offset]
                // Compared by scalars: Swift's `==` would call "é" and "e\u{301}" one string.
                if let first, !first.unicodeScalars.elementsEqual(duplicate.key.unicodeScalars) {
                    let already = duplicate.firstPosition.map { " at \(located($0, in: bytes))" } ?? ""
                    problems.add(
                        "key \(QuotedText(duplicate.key)) is the key \(QuotedText(first))\(already) to a reader that "
                            + "ignores case or Unicode width; a key may appear only once in an object, however spelled",
                        line: duplicate.position.line, column: duplicate.position.column(in: bytes))
                    continue
                }
                let already = duplicate.firstPosition.map { " (already at \(located($0, in: bytes)))" } ?? ""
                problems.add(
                    "duplicate key \(QuotedText(duplicate.key))\(already); a key may appear only once in an object",
                    line: duplicate.position.line, column: duplicate.position.column(in: bytes))
            }
            problems.omit(parser.omittedDuplicates)
            switch result {
            case .success(let node):
                return node
            case .failure(let error):
                problems.add(error.message, line: error.position.line, column: error.column)
                return nil
            }
        }
    }

    private static func located(_ position: JSONPosition, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        "line \(position.line), column \(position.column(in: bytes))"
    }

    /// The first spelling of each key that a later one folds to, by the
    /// later one's offset: the message names both spellings.
    final class FirstSpellings {
        var byOffset: [Int: String] = [:]
    }

    /// Builds ``JSONNode``s; keys are compared in their ``KeyFolding`` form
    /// (`"Path"`, `"path"` and `"ｐａｔｈ"` are one key).
    struct NodeBuilder: JSONBuilder {
        let firstSpellings = FirstSpellings()

        struct Object {
            var members: [JSONMember] = []
            var children: [JSONNode] = []
            var firstSeen: [String: (position: JSONPosition, key: String)] = [:]
        }

        struct Array {
            var values: [JSONValue] = []
            var children: [JSONNode] = []
        }

        func string(_ text: String, at position: JSONPosition) -> JSONNode {
            JSONNode(position: position, value: .string(text), children: [])
        }

        func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition) -> JSONNode? {
            JSONNode(position: position, value: .number(String(decoding: text, as: UTF8.self)), children: [])
        }

        func bool(_ value: Bool, at position: JSONPosition) -> JSONNode {
            JSONNode(position: position, value: .bool(value), children: [])
        }

        func null(at position: JSONPosition) -> JSONNode {
            JSONNode(position: position, value: .null, children: [])
        }

        func beginObject(at position: JSONPosition) -> Object { Object() }

        func addMember(_ key: String, at keyPosition: JSONPosition, value: JSONNode, to object: inout Object)
            -> JSONMemberInsertion
        {
            object.members.append(JSONMember(key: key, value: value.value))
            object.children.append(value)
            let folded = KeyFolding.fold(key)
            if let first = object.firstSeen[folded] {
                if !first.key.unicodeScalars.elementsEqual(key.unicodeScalars) {
                    firstSpellings.byOffset[keyPosition.offset] = first.key
                }
                return .duplicate(firstAt: first.position)
            }
            object.firstSeen[folded] = (keyPosition, key)
            return .inserted
        }

        func endObject(_ object: Object, at position: JSONPosition) -> JSONNode {
            JSONNode(position: position, value: .object(object.members), children: object.children)
        }

        func beginArray(at position: JSONPosition) -> Array { Array() }

        func append(_ value: JSONNode, to array: inout Array) {
            array.values.append(value.value)
            array.children.append(value)
        }

        func endArray(_ array: Array, at position: JSONPosition) -> JSONNode {
            JSONNode(position: position, value: .array(array.values), children: array.children)
        }
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
