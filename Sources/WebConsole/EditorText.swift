import Queue

/// The file in the web page's editor (a `<textarea>`) and the bytes its form
/// brings back, made equal.
///
/// Three things stand between them. The HTML parser drops one line feed
/// right after `<textarea>`, so a file that starts with an empty line would
/// lose it (in a Dockerfile that turns a comment into a parser directive):
/// the page always writes that one line feed itself (``leadingBreak``). The
/// parser also turns every CR LF and lone CR into LF, and a browser sends
/// every line break as CR LF: so line breaks come back as the file's own
/// style — LF, or CR LF when every break in the file was one — and a file that
/// mixes them, or has a lone CR, is not offered for editing here (the page
/// says so, and names the command line's `modify --file`, which keeps bytes).
/// And a NUL becomes U+FFFD in the page: a file with one is not offered
/// either, and a submitted NUL is refused with a message.
enum EditorText {
    /// How a file's lines end, when it is one way throughout.
    enum LineBreaks: Equatable {
        case lf, crlf
    }

    /// Written right after `<textarea …>`: the parser drops it, and keeps the file's own first line feed.
    static let leadingBreak = "\n"

    /// The file's line-break style; `nil` when it mixes LF and CR LF or has a lone CR.
    static func lineBreaks(of file: String) -> LineBreaks? {
        var sawLF = false
        var sawCRLF = false
        let bytes = Array(file.utf8)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\r"):
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") else { return nil }
                sawCRLF = true
                index += 1
            case UInt8(ascii: "\n"): sawLF = true
            default: break
            }
            index += 1
        }
        if sawLF && sawCRLF { return nil }
        return sawCRLF ? .crlf : .lf
    }

    /// Why `file` cannot go through the browser's editor unchanged; `nil` when it can.
    static func uneditableReason(_ file: String) -> String? {
        if file.utf8.contains(0) {
            return "the file contains a NUL byte, which a browser's editor cannot hold"
        }
        if lineBreaks(of: file) == nil {
            return "the file mixes line endings (LF and CR LF, or a lone CR), which a browser's editor turns into one kind"
        }
        return nil
    }

    /// The file the operator approved, from the editor's submitted `text`,
    /// with the line breaks of the `proposed` file it was edited from.
    /// - Returns: the file, or why it is refused.
    static func submitted(_ text: String, editing proposed: String) -> Result<String, EditorRefusal> {
        if text.utf8.contains(0) {
            return .failure(EditorRefusal("your version contains a NUL byte (U+0000), which no config file here may hold; remove it"))
        }
        if let reason = uneditableReason(proposed) { return .failure(EditorRefusal(reason)) }
        // Every break the browser sent (CR LF; a lone CR or LF from a script) is one line break.
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return .success(lineBreaks(of: proposed) == .crlf ? lines.replacingOccurrences(of: "\n", with: "\r\n") : lines)
    }
}

/// Why the editor's text is not taken, for the page's message.
struct EditorRefusal: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
