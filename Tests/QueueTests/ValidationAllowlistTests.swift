import Testing

@testable import Queue

@Suite("Validation of the allowlist")
struct ValidationAllowlistTests {
    static let label63 = String(repeating: "a", count: 63)

    // --- Accepted files ----------------------------------------------------

    @Test(arguments: [
        "example.com",
        "example.com\n",
        "# pipelock allowlist\n\napi.github.com\n  registry.npmjs.org  \n\t*.pythonhosted.org\n",
        "API.GitHub.COM\r\nfiles.pythonhosted.org\r\n",
        "localhost\n10.0.0.1\nxn--bcher-kva.example\nmy-host-1.example.com",
        "\(label63).example.com",
        "   # indented comment with anything: _ : / é\n*.s3.amazonaws.com",
        "a.b",
    ])
    func wellFormedAllowlistsAreAccepted(_ content: String) {
        #expect(refusal(content, for: .pipelockBlock) == nil)
    }

    @Test func longestNameIsAccepted() {
        let name = [Self.label63, Self.label63, Self.label63, String(repeating: "b", count: 61)].joined(
            separator: ".")
        #expect(name.count == 253)
        #expect(refusal(name, for: .pipelockBlock) == nil)
    }

    @Test func parsedHostsKeepNamesLinesAndWildcards() throws {
        let document = try AllowlistDocument.parse("# hosts\n\n  API.example.com \n*.cdn.example.net\n")
        #expect(document.hosts.map(\.name) == ["API.example.com", "*.cdn.example.net"])
        #expect(document.hosts.map(\.line) == [3, 4])
        #expect(document.hosts.map(\.isWildcard) == [false, true])
        #expect(document.hosts.map(\.normalizedName) == ["api.example.com", "*.cdn.example.net"])
    }

    @Test func onlyCommentsParseToNoHosts() throws {
        #expect(try AllowlistDocument.parse("# nothing allowed yet\n").hosts.isEmpty)
    }

    // --- Refused entries, each with its line and column ---------------------

    @Test(arguments: [
        (
            "my_host.example.com", 1, 3,
            "'_' is not allowed in a hostname (RFC 1123: letters, digits, hyphens and dots)"
        ),
        (
            "example.com.", 1, 12,
            "remove the trailing dot: write \"example.com\" (entries are compared with hostnames as requests name them)"
        ),
        (
            "example.com # docs", 1, 12,
            "comments must be on a line of their own; move this '# ...' to its own line"
        ),
        ("example.com#docs", 1, 12, "comments must be on a line of their own, starting with '#'"),
        (
            "example.com other.org", 1, 12,
            "one hostname per line; put \"other.org\" on a line of its own"
        ),
        ("example.com:443", 1, 12, "write the hostname without a port; ':' is not allowed"),
        ("https://example.com/", 1, 1, "write the hostname only, without a scheme such as https://"),
        ("example.com/path", 1, 12, "write the hostname only, without a path"),
        (
            "api.*.example.com", 1, 5, "'*' is only allowed as the whole first label, as in *.example.com"
        ),
        ("*example.com", 1, 1, "'*' is only allowed as the whole first label, as in *.example.com"),
        ("*", 1, 1, "'*' alone would allow every host; name a domain, as in *.example.com"),
        ("*.", 1, 2, "a wildcard needs a domain after '*.', as in *.example.com"),
        (
            "*.com", 1, 1,
            "\"*.com\" would allow every host under a top-level domain; name the domain, as in *.example.com"
        ),
        ("-api.example.com", 1, 1, "a label cannot start with '-'"),
        ("api-.example.com", 1, 4, "a label cannot end with '-'"),
        ("api.-x.com", 1, 5, "a label cannot start with '-'"),
        ("api..example.com", 1, 5, "empty label: two dots in a row; remove one"),
        (".example.com", 1, 1, "a hostname cannot start with '.'"),
        (".", 1, 1, "a hostname cannot start with '.'"),
        (
            "  bad_host", 1, 6,
            "'_' is not allowed in a hostname (RFC 1123: letters, digits, hyphens and dots)"
        ),
        (
            "ok.com\n\n\tb@d.com", 3, 3,
            "'@' is not allowed in a hostname (letters, digits, hyphens and dots only)"
        ),
        (
            "bücher.de", 1, 2,
            "'ü' (U+00FC) is not ASCII; write an internationalized name in its punycode form (xn--...)"
        ),
        (
            "exa\u{0}mple.com", 1, 4,
            "U+0000 (an invisible or control character) is not allowed in a hostname"
        ),
        (
            "example.com\r\r\n", 1, 12,
            "U+000D (an invisible or control character) is not allowed in a hostname"
        ),
        (
            "exa\u{202E}mple.com", 1, 4,
            "U+202E (an invisible or control character) is not allowed in a hostname"
        ),
        ("\u{FEFF}example.com", 1, 1, "U+FEFF (byte order mark) is not allowed in a hostname"),
        (
            "example.com\u{A0}", 1, 12,
            "U+00A0 (an invisible or control character) is not allowed in a hostname"
        ),
    ])
    func badEntryIsReportedAtTheBadCharacter(
        _ content: String, line: Int, column: Int, message: String
    ) {
        let found = problems(content, for: .pipelockBlock)
        #expect(found.count == 1)
        #expect(found.first?.message == message)
        #expect(found.first?.position == [line, column])
    }

    @Test func labelLongerThan63IsRefusedAtTheLabel() {
        let found = problems("api.\(Self.label63)a.com", for: .pipelockBlock)
        #expect(found.map(\.position) == [[1, 5]])
        #expect(
            found.first?.message.hasSuffix("is 64 characters long; a label may have at most 63") == true)
    }

    @Test func nameLongerThan253IsRefused() {
        let name = [Self.label63, Self.label63, Self.label63, String(repeating: "b", count: 62)].joined(
            separator: ".")
        let found = problems("\n\(name)", for: .pipelockBlock)
        #expect(found.map(\.position) == [[2, 1]])
        #expect(found.first?.message == "the hostname is 254 characters long; the limit is 253")
    }

    @Test func wildcardCountsTowardsTheLength() {
        let domain = [Self.label63, Self.label63, Self.label63, String(repeating: "b", count: 60)]
            .joined(separator: ".")
        #expect(refusal("*.\(String(domain.dropFirst(1)))", for: .pipelockBlock) == nil)
        #expect(
            problems("*.\(domain)", for: .pipelockBlock).first?.message.contains("254 characters") == true
        )
    }

    // --- Duplicates ----------------------------------------------------------

    @Test func duplicatesAreCaseInsensitiveAndNameTheFirstLine() {
        let found = problems(
            "api.example.com\n# again\n  API.Example.com\n*.example.com\n*.EXAMPLE.com",
            for: .pipelockBlock)
        #expect(found.map(\.position) == [[3, 3], [5, 1]])
        #expect(
            found.first?.message
                == "\"API.Example.com\" is already allowed on line 1 (hostnames are case-insensitive); remove this line"
        )
        #expect(found.last?.message.contains("already allowed on line 4") == true)
    }

    @Test func aHostAndItsWildcardAreNotDuplicates() {
        #expect(refusal("example.com\n*.example.com\nwww.example.com", for: .pipelockBlock) == nil)
    }

    @Test func everyBadLineIsReportedInOneError() {
        let error = refusal(
            "good.com\nbad_one.com\nalso bad.com\ngood.com\nfine.org.", for: .pipelockBlock)
        #expect(error?.problems.map(\.line) == [2, 3, 4, 5])
        #expect(
            error?.description.hasPrefix(
                "pipelock-block: the proposed allowlist has 4 problems:\n  allowlist line 2, column 4: ")
                == true)
    }

    @Test func aFileOfBadLinesIsCappedAndCounted() {
        let content = Array(repeating: "bad_host.com", count: 500).joined(separator: "\n")
        let error = refusal(content, for: .pipelockBlock)
        #expect(error?.problems.count == ValidationError.problemLimit)
        #expect(error?.omittedCount == 480)
        #expect(error?.description.hasSuffix("... and 480 more") == true)
    }
}

@Suite("Validation of the allowlist: the one-pass check of plain hostnames")
struct PlainHostnameTests {
    static let entries = [
        "api.github.com", "*.example.com", "a", "localhost", "x-y.example", "xn--bcher-kva.example", "API.Example.COM",
        "*.com", "*.", "*", "*x.example", ".example.com", "example.com.", "a..b", "-a.example", "a-.example",
        "a.-b.example", "a.b-.example", "a_b.example", "a b", "a#b", "https://a.example", "a.example:443",
        "a.example/x", "ex\u{1B}[2Jample.com", "bücher.example", "*.*.example", "a.*.example",
        String(repeating: "a", count: 63) + ".example", String(repeating: "a", count: 64) + ".example",
        Array(repeating: String(repeating: "a", count: 60), count: 4).joined(separator: ".") + ".example",
        Array(repeating: "ab", count: 84).joined(separator: "."), Array(repeating: "ab", count: 85).joined(separator: "."),
        "1.2.3.4", "[::1]", "*.1.2", "", "0", "a.0",
    ]

    @Test("says yes only where the full check finds nothing, and no to every fault", arguments: entries)
    func agreesWithTheFullCheck(_ entry: String) throws {
        let full = try? AllowlistDocument.parse(entry + "\n")
        if AllowlistDocument.isPlainHostname(Substring(entry)) {
            #expect(full?.hosts.map(\.name) == [entry])
        }
        // Every plain ASCII hostname the full check accepts is also recognised in one pass.
        if let full, !full.hosts.isEmpty, entry.unicodeScalars.allSatisfy({ $0.isASCII }) {
            #expect(AllowlistDocument.isPlainHostname(Substring(entry)))
        }
    }
}
