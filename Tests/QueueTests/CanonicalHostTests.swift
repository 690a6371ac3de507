import Testing

@testable import Queue

@Suite("Canonical host reading")
struct CanonicalHostTests {
    func text(_ host: String) -> String? { try? CanonicalHost.parse(host).get().text }

    func refused(_ host: String) -> Bool {
        if case .failure = CanonicalHost.parse(host) { return true }
        return false
    }

    @Test("every IPv4 form inet_aton and URL parsers take is the dotted quad")
    func ipv4Forms() {
        for spelling in [
            "127.0.0.1", "0x7f.1", "0x7F.0.0.1", "2130706433", "0177.0.0.1", "0177.1", "127.1", "127.0.1",
            "0x7f000001", "017700000001", "127.0.0.1.", "0X7f.0x0.0.01", "%31%32%37.0.0.1", "１２７．０．０．１",
            "127。0。0。1", "127｡0.0.1",
        ] {
            #expect(text(spelling) == "127.0.0.1", "\(spelling)")
        }
        #expect(text("169.254.43518") == "169.254.169.254")
        #expect(text("2852039166") == "169.254.169.254")
        #expect(text("0xa9.0xfe.0xa9.0xfe") == "169.254.169.254")
        #expect(text("0xa9fea9fe") == "169.254.169.254")
        #expect(text("0") == "0.0.0.0")
        #expect(text("0x") == "0.0.0.0")
    }

    @Test("names that end in a number but are no IPv4 address are refused")
    func brokenIPv4() {
        for spelling in ["1.2.3.4.5", "256.0.0.1", "08.0.0.1", "example.123", "1.2.3.0x", "0x100.1.1.1", "4294967296", "1.16777216"] {
            #expect(refused(spelling) || spelling == "1.2.3.0x", "\(spelling)")
        }
        #expect(text("1.2.3.0x") == "1.2.3.0")
        #expect(text("1.2.3.example.com") == "1.2.3.example.com")
        #expect(text("123.example") == "123.example")
    }

    @Test("every IPv6 form is its RFC 5952 text; embedded IPv4 and zones are read")
    func ipv6Forms() throws {
        #expect(text("[::ffff:169.254.169.254]") == "::ffff:a9fe:a9fe")
        #expect(text("::ffff:a9fe:a9fe") == "::ffff:a9fe:a9fe")
        #expect(text("[0:0:0:0:0:ffff:a9fe:a9fe]") == "::ffff:a9fe:a9fe")
        #expect(text("[0000:0000::0001]") == "::1")
        #expect(text("[::1]") == "::1")
        #expect(text("[FE80::1%eth0]") == "fe80::1")
        #expect(try CanonicalHost.parse("[fe80::1%25eth0]").get().zone == "eth0")
        #expect(text("[2001:db8:0:0:1:0:0:1]") == "2001:db8::1:0:0:1")
        for broken in ["[::1", "[1:2:3:4:5:6:7:8:9]", "[::ffff:1.2.3]", "[::ffff:01.2.3.4]", "[1:::2]", "exa:mple", "[fe80::1%]"] {
            #expect(refused(broken), "\(broken)")
        }
    }

    @Test("names are mapped as UTS-46 maps them: width, case, dots, ignored code points")
    func nameMapping() {
        for spelling in [
            "Metadata.Google.Internal", "metadata.google.internal.", "ｍｅｔａｄａｔａ．ｇｏｏｇｌｅ．ｉｎｔｅｒｎａｌ",
            "metadata。google。internal", "meta\u{AD}data.google.internal", "metadata\u{200B}.google.internal",
            "metadata.google.internal\u{FE0F}", "%6detadata.google.internal", "ＭＥＴＡＤＡＴＡ.google.internal",
        ] {
            #expect(text(spelling) == "metadata.google.internal", "\(spelling)")
        }
        #expect(text("bücher.example") == "xn--bcher-kva.example")
        #expect(text("BÜCHER.example") == "xn--bcher-kva.example")
        #expect(text("xn--bcher-kva.example") == "xn--bcher-kva.example")
        #expect(text("XN--Bcher-KVA.example") == "xn--bcher-kva.example")
        #expect(text("ｐａｓｔｅｂｉｎ．ｃｏｍ") == "pastebin.com")
    }

    @Test("what cannot be canonicalised is refused, with the reason")
    func refusals() {
        for spelling in [
            "straße.example", "a\u{200D}b.example", "a..b", ".example.com", "exa mple.com", "a/b", "a@b", "ex%ample",
            "xn--zz.example", "a\u{2215}b.example", String(repeating: "a", count: 64) + ".example",
            String(repeating: "ü", count: 64) + ".example", String(repeating: "A", count: 64) + ".example",
            Array(repeating: "abcdefghi", count: 26).joined(separator: "."), "%ff.example", "",
        ] {
            #expect(refused(spelling), "\(Escaped(spelling))")
        }
        if case .failure(let refusal) = CanonicalHost.parse("straße.example") {
            #expect(refusal.reason.contains("deviation"))
        }
    }

    @Test("Punycode round-trips")
    func punycode() {
        let samples = ["bücher", "münchen", "例え", "почта", "ü"]
        for sample in samples {
            let encoded = Punycode.encode(Array(sample.unicodeScalars))
            #expect(encoded.flatMap { Punycode.decode(Substring($0)) }.map { String(String.UnicodeScalarView($0)) } == sample)
        }
        #expect(Punycode.encode(Array("bücher".unicodeScalars)) == "bcher-kva")
        #expect(Punycode.encode(Array("münchen".unicodeScalars)) == "mnchen-3ya")
    }
}
