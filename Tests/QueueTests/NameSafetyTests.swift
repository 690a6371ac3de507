import Testing

@testable import Queue

@Suite("Names that become paths")
struct NameSafetyTests {
    @Test(
        "hostile slugs are refused",
        arguments: [
            "", ".", "..", "../etc", "a/b", "/abs", "-flag", "a\u{0}b", "a b", "a\nb", "é",
            String(repeating: "a", count: 64), "_x",
        ])
    func hostileSlugs(_ text: String) {
        #expect(throws: QueueError.self) { try BottleSlug(text) }
    }

    @Test(
        "ordinary slugs are accepted",
        arguments: ["demo", "demo-bottle", "a", "Bottle_2.main", String(repeating: "a", count: 63)])
    func goodSlugs(_ text: String) throws {
        #expect(try BottleSlug(text).rawValue == text)
    }

    @Test(
        "ids not of the generated form are refused",
        arguments: [
            "", "../20261125-024900-3fa9c2d1e4b7", "20261125-024900-3FA9C2D1E4B7", "20261125-024900-3fa9c2d1e4b",
            "20261125_024900-3fa9c2d1e4b7",
            "20261125-024900-3fa9c2d1e4b7/", "x0261125-024900-3fa9c2d1e4b7",
        ])
    func hostileIDs(_ text: String) {
        #expect(throws: QueueError.invalidProposalID(text)) { try ProposalID(text) }
    }

    @Test("generated ids are well formed, unique and sort by time")
    func generated() throws {
        let ids = (0..<1000).map { _ in ProposalID.generate() }
        #expect(Set(ids).count == 1000)
        for id in ids { #expect(try ProposalID(id.rawValue) == id) }
        let early = ProposalID.generate(at: .init(timeIntervalSince1970: 1_000_000_000))
        let late = ProposalID.generate(at: .init(timeIntervalSince1970: 2_000_000_000))
        #expect(early < late)
        #expect(early.rawValue.hasPrefix("20010909-014640-"))
    }

    @Test("a slug in an error message is shown escaped")
    func escapedInErrors() {
        let error = QueueError.invalidSlug("\u{1B}[2Jx", reason: "bad")
        #expect(!error.description.contains("\u{1B}"))
        #expect(error.description.contains("\\e[2Jx"))
    }

    @Test("control characters, C1 and bidi overrides are escaped; plain text is not")
    func escaping() {
        #expect(Escaped("a\u{1B}]52;c;AAAA\u{07}b").description == "a\\e]52;c;AAAA\\x07b")
        #expect(Escaped("\u{202E}evil\u{2066}").description == "\\u{202e}evil\\u{2066}")
        #expect(Escaped("\u{9B}31m").description == "\\x9b31m")
        #expect(Escaped("line\nnext\ttab").description == "line\\nnext\\ttab")
        #expect(Escaped("line\nnext\ttab", keepLayout: true).description == "line\nnext\ttab")
        #expect(Escaped("héllo wörld → ok").description == "héllo wörld → ok")
    }
}
