/// One `--name` or `--name=value` flag of a Dockerfile instruction
/// (`RUN --network=host`, `COPY --from=builder`, `RUN --mount=type=secret,id=x`).
public struct DockerfileFlag: Sendable, Equatable {
    /// The name without `--`, lower case (BuildKit's names are lower case;
    /// the hints compare in lower case so no spelling slips past them).
    public let name: String
    /// The value after `=`, quotes removed as BuildKit removes them; `nil`
    /// for a bare `--link`.
    public let value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    /// The value's comma-separated `key=value` fields (`--mount=type=secret,id=x`),
    /// keys lower case; a field without `=` maps to an empty string.
    public var fields: [(key: String, value: String)] {
        (value ?? "").split(separator: ",", omittingEmptySubsequences: true).map { field in
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (parts[0].trimmingBlanks().lowercased(), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// The value of field `key` of ``fields``, if present.
    public func field(_ key: String) -> String? { fields.first { $0.key == key }?.value }
}

extension DockerfileInstruction {
    /// The leading flags and the arguments after them, read as BuildKit
    /// reads them: words split at unquoted blanks, a word starting with `--`
    /// is a flag (`--` alone ends the flags), quotes inside a flag word
    /// removed (`--network="host"` is `--network=host`), a backslash
    /// escaping the next character.
    public var flagsAndOperands: (flags: [DockerfileFlag], operands: Substring) {
        Self.splitFlags(Substring(arguments))
    }

    /// The leading flags (``flagsAndOperands``).
    public var flags: [DockerfileFlag] { flagsAndOperands.flags }

    /// The arguments after the flags.
    public var operands: Substring { flagsAndOperands.operands }

    /// Every value of flag `name` (lower case), in order; a bare flag gives "".
    public func flagValues(_ name: String) -> [String] {
        flags.filter { $0.name == name }.map { $0.value ?? "" }
    }

    /// The operands as an exec-form JSON array of strings (`["a", "b"]`);
    /// `nil` for the shell form.
    public var execForm: [String]? {
        let text = operands
        guard text.hasPrefix("[") else { return nil }
        var ignored = ProblemList()
        guard let node = StrictJSONParser.parse(String(text), problems: &ignored), ignored.isEmpty,
            case .array(let elements) = node.value
        else { return nil }
        var strings: [String] = []
        for element in elements {
            guard case .string(let value) = element else { return nil }
            strings.append(value)
        }
        return strings
    }

    /// The instruction an `ONBUILD` carries (`ONBUILD RUN --network=host …`
    /// is that `RUN`), on the same line; `nil` for any other keyword. It runs
    /// in every build `FROM` this image, so it is read like one of this file's.
    public var onbuildTrigger: DockerfileInstruction? {
        guard keyword == "ONBUILD" else { return nil }
        let text = Substring(arguments).trimmingBlanks()
        let end = text.firstIndex { $0 == " " || $0 == "\t" } ?? text.endIndex
        let inner = text[..<end].uppercased()
        guard !inner.isEmpty, inner != "ONBUILD" else { return nil }
        return DockerfileInstruction(
            keyword: inner, arguments: String(text[end...].trimmingBlanks()), heredocs: heredocs, line: line)
    }

    /// The words of the operands: the exec form's strings, or the shell
    /// form split at unquoted blanks with quotes removed.
    public var operandWords: [String] {
        execForm ?? Self.words(operands).map(\.text)
    }

    /// Splits `arguments` into leading flags and the rest.
    static func splitFlags(_ arguments: Substring) -> (flags: [DockerfileFlag], operands: Substring) {
        var flags: [DockerfileFlag] = []
        var rest = arguments.trimmingBlanks()
        while rest.hasPrefix("--") {
            guard let word = words(rest, limit: 1).first else { break }
            let after = rest[word.end...].trimmingBlanks()
            let text = word.text.dropFirst(2)
            if text.isEmpty {  // `--` ends the flags
                rest = after
                break
            }
            if let equals = text.firstIndex(of: "=") {
                flags.append(DockerfileFlag(name: text[..<equals].lowercased(), value: String(text[text.index(after: equals)...])))
            } else {
                flags.append(DockerfileFlag(name: text.lowercased(), value: nil))
            }
            rest = after
        }
        return (flags, rest)
    }

    /// Shell-like words of `text`: split at unquoted blanks, quotes removed,
    /// a backslash outside single quotes escaping the next character; each
    /// with the index just past it. At most `limit` words.
    static func words(_ text: Substring, limit: Int = .max) -> [(text: String, end: Substring.Index)] {
        var words: [(String, Substring.Index)] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex, words.count < limit {
            let character = text[index]
            defer { index = text.index(after: index) }
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\", open == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord {
                    words.append((current, index))
                    current = ""
                    inWord = false
                }
            case "\\":
                inWord = true
                escaped = true
            case "\"", "'":
                inWord = true
                quote = character
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord, words.count < limit { words.append((current, text.endIndex)) }
        return words
    }
}
