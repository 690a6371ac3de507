import Testing

@testable import WebConsole

/// What the browser sends back from the editor becomes the file it showed
/// (the Chromium test, `WebConsoleEditorBrowserTests`, drives a real browser).
@Suite("The web editor's text")
struct EditorTextTests {
    /// What a browser submits for a textarea showing `file`: the parser
    /// dropped the page's own leading line feed, and every line break is CR LF.
    func submittedByBrowser(_ file: String) -> String {
        file.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    @Test("unchanged text comes back byte for byte: leading and trailing newlines, CR LF, no-break spaces")
    func roundTrip() throws {
        for file in [
            "\n\nFROM alpine:3.20\n", "\n# escape=`\nFROM alpine\n", "api.github.com", "a\r\nb\r\n\r\n",
            "\u{00A0}a\u{00A0}\n\u{00A0}", "", "\n", "\r\n",
        ] {
            #expect(EditorText.uneditableReason(file) == nil, "\(file.debugDescription)")
            #expect(try EditorText.submitted(submittedByBrowser(file), editing: file).get() == file, "\(file.debugDescription)")
        }
    }

    @Test("an edit keeps the file's own line breaks")
    func edits() throws {
        #expect(try EditorText.submitted("a\r\nb\r\nc\r\n", editing: "a\r\nb\r\n").get() == "a\r\nb\r\nc\r\n")
        #expect(try EditorText.submitted("a\r\nb\r\nc\r\n", editing: "a\nb\n").get() == "a\nb\nc\n")
    }

    @Test("NUL is refused with a message; mixed line endings and lone CRs are not offered")
    func refusals() {
        guard case .failure(let refusal) = EditorText.submitted("a\u{0}b\n", editing: "a\n") else {
            Issue.record("a NUL was taken")
            return
        }
        #expect(refusal.reason.contains("NUL"))
        #expect(EditorText.uneditableReason("a\u{0}\n")?.contains("NUL") == true)
        #expect(EditorText.uneditableReason("a\r\nb\n")?.contains("mixes line endings") == true)
        #expect(EditorText.uneditableReason("a\rb\n") != nil)
        #expect(EditorText.lineBreaks(of: "a\r\nb\r\n") == .crlf)
        #expect(EditorText.lineBreaks(of: "a\nb") == .lf)
    }
}
