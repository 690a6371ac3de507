import Testing

@testable import Queue
@testable import Risk

@Suite("Risk hints: allowlist")
struct RiskHintsAllowlistTests {
    func hints(_ proposed: String, current: String? = "pypi.org\n") -> [RiskHint] {
        RiskHints.assess(tool: .pipelockBlock, proposed: proposed, current: current)
    }

    @Test("a wildcard over a public suffix is critical, ICANN or private section")
    func wildcardOverPublicSuffix() {
        for entry in ["*.co.uk", "*.github.io", "*.s3.amazonaws.com", "*.com.au"] {
            let found = hints("pypi.org\n\(entry)\n")
            #expect(found.map(\.rule) == ["wildcard-public-suffix"], "\(entry)")
            #expect(found.first?.severity == .critical)
            #expect(found.first?.line == 2)
        }
    }

    @Test("a wildcard over one organisation's domain is a warning; deeper is a notice")
    func wildcardBreadth() {
        let domain = hints("pypi.org\n*.example.co.uk\n")
        #expect(domain.map(\.severity) == [.warning])
        #expect(domain.first?.reason.contains("every subdomain of example.co.uk") == true)
        let deeper = hints("pypi.org\n*.api.example.com\n")
        #expect(deeper.map(\.severity) == [.notice])
        #expect(hints("pypi.org\napi.example.com\n").isEmpty)
    }

    @Test("IP literals: private ranges and the metadata service are critical, public ones a warning")
    func ipAddresses() {
        #expect(hints("pypi.org\n169.254.169.254\n").first?.reason.contains("metadata") == true)
        for address in ["10.1.2.3", "172.20.0.1", "192.168.1.1", "127.0.0.1", "100.64.0.1"] {
            #expect(hints("pypi.org\n\(address)\n").map(\.rule) == ["private-address"], "\(address)")
        }
        #expect(hints("pypi.org\n8.8.8.8\n").map(\.rule) == ["ip-address"])
        #expect(hints("pypi.org\n8.8.8.8\n").first?.severity == .warning)
        // Not addresses: names that look numeric in part.
        #expect(hints("pypi.org\n1.2.3.example.com\n").isEmpty)
    }

    @Test("paste sites, tunnels and request bins are critical, under any subdomain")
    func exfiltrationHosts() {
        for entry in ["pastebin.com", "abc123.ngrok-free.app", "*.trycloudflare.com", "webhook.site", "x.oast.fun"] {
            let found = hints("pypi.org\n\(entry)\n")
            #expect(found.contains { $0.rule == "exfiltration-host" && $0.severity == .critical }, "\(entry)")
        }
        #expect(hints("pypi.org\nnotpastebin.com\n").isEmpty)
    }

    @Test("many hosts at once is a warning; hosts already allowed don't count")
    func manyHosts() {
        let eleven = (1...11).map { "h\($0).example.org" }.joined(separator: "\n")
        #expect(hints("pypi.org\n" + eleven).contains { $0.rule == "many-hosts" && $0.line == 2 })
        let ten = (1...10).map { "h\($0).example.org" }.joined(separator: "\n")
        #expect(!hints("pypi.org\n" + ten).contains { $0.rule == "many-hosts" })
        #expect(hints("pypi.org\n" + eleven, current: "pypi.org\n" + eleven).isEmpty)
    }

    @Test("only added entries are hinted, compared case-insensitively")
    func onlyAdded() {
        #expect(hints("*.co.uk\npypi.org\n", current: "*.CO.UK\n").isEmpty)
        #expect(hints("*.co.uk\n", current: nil).map(\.rule) == ["wildcard-public-suffix"])
    }

    @Test("a file that does not validate gets no hints")
    func invalidFile() {
        #expect(hints("http://pastebin.com/\n").isEmpty)
    }

    @Test("the public suffix list follows its algorithm: wildcards and exceptions")
    func publicSuffixAlgorithm() {
        let list = PublicSuffixList(rules: "com\nuk\nco.uk\n*.ck\n!www.ck\n")
        #expect(list.publicSuffix(of: "a.b.example.co.uk") == "co.uk")
        #expect(list.registrableDomain(of: "a.b.example.co.uk") == "example.co.uk")
        #expect(list.publicSuffix(of: "foo.bar.ck") == "bar.ck")
        #expect(list.publicSuffix(of: "www.ck") == "ck")
        #expect(list.publicSuffix(of: "a.www.ck") == "ck")
        #expect(list.publicSuffix(of: "example.unknowntld") == "unknowntld")
        #expect(list.isPublicSuffix("CO.UK"))
        #expect(!list.isPublicSuffix("example.com"))
        #expect(PublicSuffixList.shipped.isPublicSuffix("github.io"))
        #expect(PublicSuffixList.date.count == 10)
    }

    @Test("hints come most severe first")
    func ordering() {
        let found = hints("pypi.org\n*.example.com\n10.0.0.1\n")
        #expect(found.map(\.severity) == [.critical, .warning])
        #expect(found.highestSeverity == .critical)
    }
}
