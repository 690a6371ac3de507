/// A Dockerfile that passed validation, read at the instruction level the
/// way BuildKit reads it.
///
/// What is understood: parser directives at the very top (`# syntax=`,
/// `# escape=`, `# check=`; the escape character may be `\` or a backtick),
/// `#` comment lines, blank lines, line continuations with the escape
/// character (comment and blank lines inside a continuation are skipped),
/// heredocs on `RUN`, `COPY` and `ADD`, and the instruction keywords in any
/// case. What is refused: an unknown instruction, an instruction without
/// arguments, anything but `ARG` before the first `FROM`, a continuation or
/// heredoc the file ends inside, an exec form (`["..."]`) that is not a JSON
/// array of strings, a malformed `FROM` or `ONBUILD`, and raw control
/// characters (a Dockerfile is text).
public struct DockerfileDocument: Sendable, Equatable {
    /// The parser directives at the top, by lower-case name (`escape`, `syntax`).
    public let directives: [String: String]
    /// The escape character: `\` unless a `# escape=` directive chose a backtick.
    public let escapeCharacter: Character
    /// The instructions in file order.
    public let instructions: [DockerfileInstruction]

    /// Parses and checks `content` as a Dockerfile.
    /// - Throws: every problem found (up to the limit), with line and, where
    ///   there is one, column; the tool is ``Tool/capabilityBlock``.
    public static func parse(_ content: String) throws(ValidationError) -> DockerfileDocument {
        var reader = DockerfileReader(content: content)
        reader.read()
        try reader.problems.throwIfAny(for: .capabilityBlock)
        return DockerfileDocument(
            directives: reader.directives, escapeCharacter: reader.escape,
            instructions: reader.instructions)
    }

    /// Whether a `# syntax=` value names Docker's own Dockerfile frontend
    /// (`docker/dockerfile`, optionally `docker.io/` and the `library`-less
    /// path, with a tag and/or digest): any other image is code of its
    /// author's choosing that BuildKit runs to turn the file into a build.
    public static func isStandardFrontend(_ value: String) -> Bool {
        var rest = Substring(value)
        for prefix in ["docker.io/", "registry-1.docker.io/"] where rest.hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
        }
        guard rest.hasPrefix("docker/dockerfile") else { return false }
        rest = rest.dropFirst("docker/dockerfile".count)
        // Then nothing, a tag (`:1`, `:1.7-labs`) and/or a digest (`@sha256:…`), no more path.
        if rest.isEmpty { return true }
        guard let first = rest.first, first == ":" || first == "@" else { return false }
        return rest.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:@".contains($0)) }
    }
}

/// The line-by-line state of reading one Dockerfile.
private struct DockerfileReader {
    static let directiveNames: Set<String> = ["syntax", "escape", "check"]
    static let execFormKeywords: Set<String> = ["RUN", "CMD", "ENTRYPOINT"]

    let lines: [(number: Int, text: Substring)]
    var index = 0
    var problems = ProblemList()
    var directives: [String: String] = [:]
    var escape: Character = "\\"
    var instructions: [DockerfileInstruction] = []
    var sawFrom = false
    /// The last line of the previous instruction when it ended without a
    /// heredoc, for the "did you forget the escape character" hint.
    var previousLastLine: Int?

    init(content: String) {
        var lines = Array(TextLines(text: content))
        if let first = lines.first, first.text.unicodeScalars.first == "\u{FEFF}" {
            lines[0].text = Substring(first.text.unicodeScalars.dropFirst())
        }
        self.lines = lines
    }

    mutating func read() {
        readDirectives()
        while index < lines.count {
            let (number, text) = lines[index]
            let start = text.drop { $0 == " " || $0 == "\t" }
            if start.isEmpty || start.first == "#" {
                advance()
                continue
            }
            readInstruction(startLine: number, startText: start, in: text)
        }
        if !sawFrom {
            problems.add(
                "the Dockerfile has no FROM instruction; it must start from an image, as in FROM debian:bookworm"
            )
        }
    }

    /// Moves past the current line, reporting its first control character:
    /// every line is passed exactly once, so problems come in file order.
    private mutating func advance() {
        let (number, text) = lines[index]
        index += 1
        let scalars = text.unicodeScalars
        if let bad = scalars.firstIndex(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            problems.add(
                "\(CharacterName(scalar: scalars[bad])) is a control character; a Dockerfile is text (write it as an escape the command understands)",
                line: number, column: text.column(of: bad))
        }
    }

    // --- Parser directives -------------------------------------------------

    /// Reads `# name=value` lines at the very top. The first line that is not
    /// one (a comment, a blank line, an instruction, an unknown directive)
    /// ends them, as in BuildKit; later look-alikes are plain comments.
    private mutating func readDirectives() {
        while index < lines.count, let (name, value) = Self.directive(in: lines[index].text) {
            let number = lines[index].number
            guard Self.directiveNames.contains(name) else { return }
            advance()
            if directives[name] != nil {
                problems.add(
                    "the parser directive \(QuotedText(name)) is given twice; keep one", line: number)
                continue
            }
            directives[name] = value
            if name == "syntax", !DockerfileDocument.isStandardFrontend(value) {
                problems.add(
                    "the syntax directive may only name docker/dockerfile (as in # syntax=docker/dockerfile:1), not "
                        + "\(QuotedText(value)): another BuildKit frontend decides what is built, so the file the "
                        + "operator reviews would not be what runs",
                    line: number)
            }
            if name == "escape" {
                if value == "\\" || value == "`" {
                    escape = Character(value)
                } else {
                    problems.add(
                        "the escape directive must be a backslash or a backtick, not \(QuotedText(value))",
                        line: number)
                }
            }
        }
    }

    /// `# name = value` with a name of letters and digits, or nil.
    private static func directive(in line: Substring) -> (name: String, value: String)? {
        guard line.first == "#" else { return nil }
        let body = line.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let name = body[..<equals].reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        guard let first = name.first, first.isASCII, first.isLetter,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        let value = body[body.index(after: equals)...].trimmingBlanks()
        guard !value.isEmpty else { return nil }
        return (String(name).lowercased(), String(value))
    }

    // --- Instructions ------------------------------------------------------

    private mutating func readInstruction(startLine: Int, startText: Substring, in line: Substring) {
        var joined = ""
        var current = startText
        var currentLine = line
        var lastLine = startLine
        while true {
            guard let cut = continuationCut(current) else {
                joined += current
                advance()
                break
            }
            joined += current[..<cut]
            advance()
            while index < lines.count {
                let next = lines[index].text.trimmingBlanks()
                guard next.isEmpty || next.first == "#" else { break }
                advance()
            }
            guard index < lines.count else {
                let escapeName = escapeName
                problems.add(
                    "the line ends with the escape character, \(escapeName), but the file ends there; remove it or add the line it continues",
                    line: lastLine, column: currentLine.column(of: cut))
                break
            }
            lastLine = lines[index].number
            current = lines[index].text
            currentLine = current
        }

        let text = joined[...].trimmingBlanks()
        let keywordEnd = text.firstIndex { $0 == " " || $0 == "\t" } ?? text.endIndex
        let word = text[..<keywordEnd]
        let arguments = text[keywordEnd...].trimmingBlanks()
        let keywordColumn = line.column(of: startText.startIndex)
        let keyword = word.allSatisfy { $0.isASCII && $0.isLetter } ? word.uppercased() : String(word)
        // Only escape characters and the end of the file: already reported.
        if word.isEmpty { return }

        guard DockerfileInstruction.usage[keyword] != nil else {
            let previous = previousLastLine
            let escapeName = escapeName
            problems.add(
                Self.unknownInstruction(word, previous: previous, escapeName: escapeName),
                line: startLine, column: keywordColumn)
            previousLastLine = lastLine
            return
        }

        var heredocs: [DockerfileHeredoc] = []
        if DockerfileInstruction.heredocKeywords.contains(keyword),
            !Self.strippingFlags(arguments).hasPrefix("[")
        {
            for marker in DockerfileHeredoc.markers(in: arguments) {
                guard let heredoc = readHeredoc(marker, instructionLine: startLine) else { break }
                heredocs.append(heredoc)
            }
        }
        previousLastLine = heredocs.isEmpty ? lastLine : nil

        check(keyword: keyword, arguments: arguments, line: startLine, column: keywordColumn)
        instructions.append(
            DockerfileInstruction(
                keyword: keyword, arguments: String(arguments), heredocs: heredocs, line: startLine))
    }

    /// The message for an unknown instruction word, with a hint when it may
    /// be the continuation of the instruction ending on line `previous`.
    private static func unknownInstruction(
        _ word: Substring, previous: Int?, escapeName: String
    ) -> String {
        var message = "unknown instruction \(QuotedText(word)); the instructions are \(knownKeywords)"
        if let previous {
            message +=
                " (if this line continues the instruction before it, end line \(previous) with \(escapeName))"
        }
        return message
    }

    private static let knownKeywords = DockerfileInstruction.usage.keys.sorted().joined(
        separator: " ")

    /// The escape character named for a message.
    private var escapeName: String {
        escape == "`" ? "a backtick (`)" : "a backslash (\\)"
    }

    /// Where the continuation escape starts when `line` ends with the escape
    /// character (blanks after it allowed), or nil.
    private func continuationCut(_ line: Substring) -> Substring.Index? {
        let content = line.trimmingTrailingBlanks()
        guard content.last == escape else { return nil }
        return content.index(before: content.endIndex)
    }

    /// Reads a heredoc body up to its terminator line; nil (with a problem)
    /// when the file ends first.
    private mutating func readHeredoc(
        _ marker: (name: String, stripsTabs: Bool), instructionLine: Int
    ) -> DockerfileHeredoc? {
        var body = ""
        while index < lines.count {
            let text = lines[index].text
            advance()
            let candidate = marker.stripsTabs ? text.drop { $0 == "\t" } : text
            if candidate == marker.name {
                return DockerfileHeredoc(name: marker.name, stripsTabs: marker.stripsTabs, body: body)
            }
            body += text
            body += "\n"
        }
        problems.add(
            "the heredoc <<\(Escaped(marker.name)) opened here is never closed; end it with a line holding only \(QuotedText(marker.name))",
            line: instructionLine)
        return nil
    }

    // --- Per-instruction rules ---------------------------------------------

    private mutating func check(keyword: String, arguments: Substring, line: Int, column: Int) {
        if !sawFrom {
            if keyword == "FROM" {
                sawFrom = true
            } else if keyword != "ARG" {
                sawFrom = true
                problems.add(
                    "the first instruction must be FROM (only ARG may come before it); found \(keyword)",
                    line: line, column: column)
            }
        }
        guard !arguments.isEmpty else {
            problems.add(
                "\(keyword) needs arguments: \(DockerfileInstruction.usage[keyword] ?? keyword)",
                line: line, column: column)
            return
        }
        // A flag is `--name` or `--name=value`: BuildKit refuses `--=value`, and a
        // reader that took it for something else would read the line differently.
        if DockerfileInstruction.splitFlags(arguments).flags.contains(where: { $0.name.isEmpty }) {
            problems.add(
                "\(keyword) has a flag without a name ('--=' or '--\"\"'); write --name=value", line: line, column: column)
            return
        }
        switch keyword {
        case "FROM":
            let words = Self.strippingFlags(arguments).split { $0 == " " || $0 == "\t" }
            let valid = words.count == 1 || (words.count == 3 && words[1].uppercased() == "AS")
            if !valid {
                problems.add(
                    "FROM takes an image and an optional stage name: FROM <image> [AS <name>]",
                    line: line, column: column)
            }
        case "ONBUILD":
            let inner = arguments.prefix { $0 != " " && $0 != "\t" }.uppercased()
            if ["ONBUILD", "FROM", "MAINTAINER"].contains(inner) {
                problems.add("ONBUILD cannot trigger \(inner)", line: line, column: column)
            } else if DockerfileInstruction.usage[inner] == nil {
                problems.add(
                    "ONBUILD must be followed by an instruction; \(QuotedText(inner)) is not one",
                    line: line, column: column)
            }
        case "SHELL":
            if !Self.isStringArray(arguments) {
                problems.add(
                    "SHELL must be a JSON array of strings, as in SHELL [\"/bin/bash\", \"-c\"]",
                    line: line, column: column)
            }
        default:
            let command = Self.strippingFlags(arguments)
            if Self.execFormKeywords.contains(keyword), command.hasPrefix("["),
                !Self.isStringArray(command)
            {
                problems.add(
                    "\(keyword) starts with '[' but is not a JSON array of strings, so it would run as a shell command; write the exec form with double quotes, as in \(keyword) [\"executable\", \"argument\"]",
                    line: line, column: column)
            }
        }
    }

    /// The arguments after any leading `--flag` or `--flag=value` words
    /// (``DockerfileInstruction/splitFlags(_:)``, the reader the hints use).
    private static func strippingFlags(_ arguments: Substring) -> Substring {
        DockerfileInstruction.splitFlags(arguments).operands
    }

    private static func isStringArray(_ text: Substring) -> Bool {
        var ignored = ProblemList()
        guard let node = StrictJSONParser.parse(String(text), problems: &ignored), ignored.isEmpty,
            case .array(let elements) = node.value
        else { return false }
        return elements.allSatisfy { if case .string = $0 { true } else { false } }
    }
}
