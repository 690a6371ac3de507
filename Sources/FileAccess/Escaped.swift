
/// Untrusted text made safe to print on a terminal.
///
/// Everything a bottle's agent writes (justifications, proposed files, even a
/// rejected slug echoed in an error) may carry escape sequences meant to
/// repaint the operator's screen or hide a line. `Escaped` shows every C0 and
/// C1 control character, DEL, and the Unicode bidi and zero-width formatting
/// characters visibly as `\u{…}`-style escapes (`\n` and `\t` as themselves
/// when `keepLayout` is set), so no byte of agent text reaches the terminal
/// raw.
public struct Escaped: CustomStringConvertible, Sendable {
    /// The untrusted text.
    public let text: String
    /// Keep newlines and tabs as layout (for multi-line bodies) instead of escaping them.
    public let keepLayout: Bool

    /// Wraps `text` for printing.
    public init(_ text: String, keepLayout: Bool = false) {
        self.text = text
        self.keepLayout = keepLayout
    }

    public var description: String {
        // Printable ASCII is never escaped: most agent text is, and a list escapes a line per row.
        if text.utf8.allSatisfy({ $0 &- 0x20 < 0x5F }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if keepLayout, scalar == "\n" || scalar == "\t" {
                out.unicodeScalars.append(scalar)
            } else if Escaped.mustEscape(scalar) {
                out += Escaped.visible(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether a scalar may not reach a terminal raw.
    public static func mustEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1 (CSI, OSC, …)
        case 0x200B...0x200F: true  // zero-width space/joiners, LRM, RLM
        case 0x202A...0x202E: true  // bidi embeddings and overrides
        case 0x2060...0x2069: true  // word joiner, invisible operators, bidi isolates
        case 0xFEFF: true  // zero-width no-break space
        case 0xFFF9...0xFFFB: true  // interlinear annotation controls
        default: false
        }
    }

    /// Whether `text` holds anything ``mustEscape(_:)`` would rewrite.
    public static func needsEscaping(_ text: String, keepLayout: Bool = false) -> Bool {
        text.unicodeScalars.contains { scalar in
            !(keepLayout && (scalar == "\n" || scalar == "\t")) && mustEscape(scalar)
        }
    }

    /// `text` escaped, and cut after `limit` characters with a note of how
    /// much was left out: for agent values quoted inside messages, where an
    /// 8 MiB field would otherwise become an 8 MiB error line.
    public static func clipped(_ text: String, limit: Int = 200) -> String {
        var count = 0
        var end = text.unicodeScalars.startIndex
        while end < text.unicodeScalars.endIndex, count < limit {
            end = text.unicodeScalars.index(after: end)
            count += 1
        }
        guard end < text.unicodeScalars.endIndex else { return Escaped(text).description }
        let rest = text.utf8.distance(from: end.samePosition(in: text.utf8) ?? text.utf8.endIndex, to: text.utf8.endIndex)
        return Escaped(String(text.unicodeScalars[..<end])).description + "… (\(rest) more bytes)"
    }

    /// A JSON text with every character ``mustEscape(_:)`` names written as a
    /// JSON `\uXXXX` escape (a surrogate pair above U+FFFF).
    ///
    /// Newlines and tabs are kept: in a JSON encoder's output they are the
    /// layout between tokens (inside strings the encoder already wrote every
    /// U+0000–U+001F as an escape). Every other such character can only be
    /// inside a string, so the result is valid JSON that parses back to the
    /// same values, and it never reaches a terminal raw. Every `--json`
    /// output goes through this.
    public static func json(_ text: String) -> String {
        guard needsEscaping(text, keepLayout: true) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 64)
        for scalar in text.unicodeScalars {
            guard mustEscape(scalar), scalar != "\n", scalar != "\t" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return out
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        case "\u{1B}": return "\\e"
        default:
            let hex = String(scalar.value, radix: 16)
            return scalar.value <= 0xFF
                ? "\\x" + (hex.count < 2 ? "0" + hex : hex)
                : "\\u{" + hex + "}"
        }
    }
}
