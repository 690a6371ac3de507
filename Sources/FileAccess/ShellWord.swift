/// A path written into a command the operator is told to run ("run: chmod
/// 600 PATH"), quoted so that pasting the command into a POSIX shell names
/// that one file, and escaped so that printing it cannot drive the terminal.
///
/// Why both: a path with a space, a `;` or a `$(…)` would otherwise become
/// two words or a second command when pasted, so a word made only of
/// characters no shell treats specially is kept as it is (most paths), and
/// any other is put in single quotes, inside which a POSIX shell gives no
/// character a meaning (a `'` itself is written `'\''`). A relative path
/// that starts with `-` gets `./` in front, so `chmod` or `mv` cannot take it
/// for an option. A control or bidi character is then shown by ``Escaped``
/// as an escape: such a command no longer pastes as it reads, which is the
/// point: it must not look like another one.
public struct ShellWord: CustomStringConvertible, Sendable {
    /// The path (or any word) to quote.
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String {
        Escaped(Self.quoted(text)).description
    }

    /// `text` as one POSIX shell word.
    ///
    /// Quotes are found scalar by scalar, never as `Character`s: a `'` followed
    /// by a combining mark is one `Character` that is not `"'"`, yet the shell
    /// still sees the quote byte, and missing it would end the quoting there.
    static func quoted(_ text: String) -> String {
        let word = text.hasPrefix("-") ? "./" + text : text
        if !word.isEmpty, word.utf8.allSatisfy(isPlain) { return word }
        var out = "'"
        for scalar in word.unicodeScalars {
            if scalar == "'" {
                out += #"'\''"#
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    /// Bytes no POSIX shell gives a meaning to anywhere in a word.
    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "%"):
            true
        default:
            false
        }
    }
}
