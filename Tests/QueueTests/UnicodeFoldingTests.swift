import Queue
import Testing

/// NFKC and case folding without Foundation: the forms a reader that folds
/// keys or hosts sees, as ICU gave them before.
@Suite("Unicode folding without Foundation")
struct UnicodeFoldingTests {
    @Test(
        "NFKC maps compatibility forms and composes what NFC composes",
        arguments: [
            ("ｕｐｓｔｒｅａｍ", "upstream"), ("ﬁle", "file"), ("\u{212A}", "K"), ("①", "1"), ("e\u{301}", "\u{E9}"),
            ("ＡＰＩ．ｅｘａｍｐｌｅ", "API.example"), ("\u{1E9B}\u{323}", "\u{1E69}"), ("x²", "x2"), ("plain", "plain"),
            ("한국", "한국"),
        ])
    func nfkc(input: String, expected: String) {
        #expect(Array(UnicodeFolding.nfkc(input).unicodeScalars) == Array(expected.unicodeScalars))
    }

    @Test(
        "full case folding: one scalar may fold to several",
        arguments: [("Straße", "strasse"), ("ΣΑΣ", "σασ"), ("ς", "σ"), ("İ", "i\u{307}"), ("UPSTREAM", "upstream")])
    func caseFolded(input: String, expected: String) {
        #expect(Array(UnicodeFolding.caseFolded(input).unicodeScalars) == Array(expected.unicodeScalars))
    }

    @Test("keys a case- or width-insensitive reader takes for one are one key to the validator")
    func keyFolding() {
        #expect(KeyFolding.fold("ｕｐｓｔｒｅａｍ") == KeyFolding.fold("Upstream"))
        #expect(KeyFolding.fold("STRASSE") == KeyFolding.fold("straße"))
        #expect(KeyFolding.fold("path") != KeyFolding.fold("paths"))
    }

    @Test("white space is trimmed at both ends only")
    func trimmed() {
        #expect(" \t 2026-12-07T00:00:00Z \n".trimmed() == "2026-12-07T00:00:00Z")
        #expect("a b".trimmed() == "a b")
        #expect(" \n ".trimmed() == "")
    }
}
