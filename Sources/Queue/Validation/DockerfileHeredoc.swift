/// A here-document of a `RUN`, `COPY` or `ADD` instruction (`<<EOF` ...
/// `EOF`), as BuildKit reads them since Dockerfile syntax 1.4.
///
/// Public so the console can show what a changed heredoc script does.
public struct DockerfileHeredoc: Sendable, Equatable {
    /// The terminator word (quotes removed): `EOF` for `<<"EOF"`.
    public let name: String
    /// Whether leading tabs are stripped (`<<-EOF`), from the body lines and
    /// from the terminator line.
    public let stripsTabs: Bool
    /// The body: every line between the instruction and the terminator, each
    /// ending in `\n`, as written.
    public let body: String

    /// A heredoc named `name` with `body`.
    public init(name: String, stripsTabs: Bool, body: String) {
        self.name = name
        self.stripsTabs = stripsTabs
        self.body = body
    }

    /// The heredoc markers in a shell-form instruction's arguments, in order.
    ///
    /// Follows BuildKit: the arguments are split into shell words (quotes
    /// and backslash escapes kept raw), and a word of the form
    /// `[fd]<<[-]name` opens a heredoc; `name` may be quoted (`<<'EOF'`,
    /// `<<"EOF"`), and a word like `a<<b` or `<<<` is not a marker.
    static func markers(in arguments: Substring) -> [(name: String, stripsTabs: Bool)] {
        shellWords(arguments).compactMap(marker(in:))
    }

    private static func marker(in word: Substring) -> (name: String, stripsTabs: Bool)? {
        var rest = word.drop { $0.isASCII && $0.isNumber }
        guard rest.hasPrefix("<<") else { return nil }
        rest = rest.dropFirst(2)
        let stripsTabs = rest.first == "-"
        if stripsTabs { rest = rest.dropFirst() }
        guard !rest.isEmpty, !rest.contains("<") else { return nil }
        let name = rest.filter { $0 != "\"" && $0 != "'" }
        return name.isEmpty ? nil : (name, stripsTabs)
    }

    /// Splits text at unquoted blanks, keeping quotes and escapes in the
    /// words, like BuildKit's lexer with raw quotes and raw escapes.
    private static func shellWords(_ text: Substring) -> [Substring] {
        var words: [Substring] = []
        var wordStart: Substring.Index?
        var quote: Character?
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if wordStart == nil, character != " ", character != "\t" {
                wordStart = index
            }
            if escaped {
                escaped = false
            } else if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\", open == "\"" {
                    escaped = true
                }
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == " " || character == "\t", let start = wordStart {
                words.append(text[start..<index])
                wordStart = nil
            }
            index = text.index(after: index)
        }
        if let start = wordStart {
            words.append(text[start...])
        }
        return words
    }
}
