import Testing

@testable import Console

@Suite("TUI: key decoding")
struct TUIKeyTests {
    @Test("arrows, paging, enter, escape, control keys and UTF-8 characters decode from terminal bytes")
    func decodes() {
        var bytes: [UInt8] = Array("\u{1B}[A\u{1B}[B\u{1B}[5~\u{1B}[6~\r\u{7F}a\u{03}é".utf8)
        #expect(
            Key.decode(&bytes) == [
                .up, .down, .pageUp, .pageDown, .enter, .backspace, .character("a"), .control("c"), .character("é"),
            ])
        #expect(bytes.isEmpty)
    }

    @Test("a lone escape is the Escape key; a split sequence waits for its end")
    func partial() {
        var lone: [UInt8] = [0x1B]
        #expect(Key.decode(&lone) == [.escape])
        var split: [UInt8] = [0x1B, UInt8(ascii: "["), UInt8(ascii: "5")]
        #expect(Key.decode(&split) == [])
        #expect(split == [0x1B, UInt8(ascii: "["), UInt8(ascii: "5")])
        split.append(UInt8(ascii: "~"))
        #expect(Key.decode(&split) == [.pageUp])
    }
}

@Suite("TUI: text layout")
struct TUITextLayoutTests {
    @Test("width counts wide characters twice and colour sequences not at all")
    func width() {
        #expect(TextLayout.width("abc") == 3)
        #expect(TextLayout.width("日本") == 4)
        #expect(TextLayout.width("\u{1B}[31mred\u{1B}[0m") == 3)
    }

    @Test("fit cuts to the width with an ellipsis and never splits a colour sequence")
    func fit() {
        #expect(TextLayout.fit("abcdefgh", 5) == "abcd…")
        #expect(TextLayout.width(TextLayout.fit("日本語のテキスト", 7)) <= 7)
        let coloured = TextLayout.fit("\u{1B}[32m+ added line that is long\u{1B}[0m", 10)
        #expect(TextLayout.width(coloured) == 10)
        #expect(coloured.hasSuffix("\u{1B}[0m"))
        #expect(TextLayout.pad("ab", 4) == "ab  ")
    }
}
