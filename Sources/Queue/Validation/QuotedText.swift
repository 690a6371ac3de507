/// Agent text quoted inside a validation message: escaped (no control or
/// bidi character reaches whoever reads the message) and shortened, so a
/// 1 MiB key or line cannot blow up the error.
struct QuotedText: CustomStringConvertible {
    /// How many Unicode scalars of the text are shown before `...`.
    static let limit = 60

    let text: Substring

    init(_ text: some StringProtocol) {
        self.text = Substring(text)
    }

    var description: String {
        let scalars = text.unicodeScalars
        var shown = String(String.UnicodeScalarView(scalars.prefix(Self.limit)))
        if scalars.count > Self.limit {
            shown += "..."
        }
        return "\"\(Escaped(shown))\""
    }
}

/// One character of agent text named for a message: printable ones in
/// quotes, invisible or control ones by code point (`U+0000`), so the agent
/// can see exactly which character is meant.
struct CharacterName: CustomStringConvertible {
    let scalar: Unicode.Scalar

    var description: String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch scalar {
        case "\u{FEFF}": return "\(code) (byte order mark)"
        case " ": return "a space"
        case "\t": return "a tab"
        default:
            if Escaped.mustEscape(scalar) || scalar.properties.isWhitespace {
                return "\(code) (an invisible or control character)"
            }
            return scalar.isASCII ? "'\(Character(scalar))'" : "'\(Character(scalar))' (\(code))"
        }
    }
}
