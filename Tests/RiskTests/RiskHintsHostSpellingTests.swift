import Testing

@testable import Queue
@testable import Risk

@Suite("Risk hints: hosts however spelled")
struct RiskHintsHostSpellingTests {
    static let current = #"{"routes": [{"path": "/pypi/", "upstream": "https://pypi.org/simple/"}]}"#

    func routeHints(_ upstream: String, key: String = "upstream") -> [RiskHint] {
        let escaped = upstream.replacingOccurrences(of: "\\", with: "\\\\")
        let proposed = #"{"routes": [{"path": "/pypi/", "upstream": "https://pypi.org/simple/"}, {"path": "/x/", "\#(key)": "\#(escaped)"}]}"#
        return RiskHints.assess(tool: .credProxyBlock, proposed: proposed, current: Self.current)
    }

    func allowlistHints(_ entry: String) -> [RiskHint] {
        RiskHints.assess(tool: .pipelockBlock, proposed: "pypi.org\n\(entry)\n", current: "pypi.org\n")
    }

    func critical(_ hints: [RiskHint], _ rule: String) -> Bool {
        hints.contains { $0.rule == rule && $0.severity == .critical }
    }

    @Test("the metadata service and loopback in every address spelling are critical upstreams")
    func addressSpellings() {
        for upstream in [
            "http://169.254.169.254/latest", "http://0xa9fea9fe/", "http://2852039166/", "http://0251.0376.0251.0376/",
            "http://169.254.43518/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/",
            "http://[0:0:0:0:0:ffff:a9fe:a9fe]:80/", "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b:1::a9fe:a9fe]/", "http://[::ffff:0:a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::]/", "http://[2001:0:1:2:3:4:5601:5601]/",
            "http://[fd00:ec2::254]/", "http://0x7f.1/", "http://127.1:8080/", "http://0177.0.0.1/", "http://[::1]/",
            "http://[fe80::1%25eth0]/", "http://１２７．０．０．１/", "http://127。0。0。1/", "http://100.100.100.200/",
            "http://169.254.169.254./", "http://%31%36%39.254.169.254/",
        ] {
            let found = routeHints(upstream)
            #expect(critical(found, "private-address"), "\(upstream): \(found.map(\.rule))")
        }
        #expect(routeHints("http://0xa9fea9fe/").first { $0.rule == "private-address" }?.reason.contains("read as 169.254.169.254") == true)
        #expect(routeHints("https://8.8.8.8/").contains { $0.rule == "ip-address" && $0.severity == .warning })
    }

    @Test("exfiltration hosts with a trailing dot, IDNA dots, width or case are still critical")
    func exfiltrationSpellings() {
        for upstream in [
            "https://pastebin.com./", "https://PASTEBIN.com/", "https://pastebin。com/", "https://pastebin．com/",
            "https://pastebin｡com/", "https://ｐａｓｔｅｂｉｎ.ｃｏｍ/", "https://paste\u{AD}bin.com/", "https://x.webhook.site./",
        ] {
            #expect(critical(routeHints(upstream), "exfiltration-host"), "\(Escaped(upstream))")
        }
    }

    @Test("URL tricks do not move the host the hints judge")
    func urlTricks() {
        // WHATWG: a backslash ends an http(s) authority; the userinfo ends at the last '@'.
        #expect(critical(routeHints(#"https://pastebin.com\@pypi.org/"#), "exfiltration-host"))
        #expect(critical(routeHints("https:pastebin.com/x"), "exfiltration-host"))
        #expect(critical(routeHints(#"https:/\pastebin.com/x"#), "exfiltration-host"))
        #expect(critical(routeHints("https://user:pw@pypi.org@pastebin.com/"), "exfiltration-host"))
        #expect(RouteFields.split("https://paste\tbin.com/") == ("https", "pastebin.com"))
        #expect(RouteFields.split(#"https://evil.example\@good.example/"#) == ("https", "evil.example"))
    }

    @Test("names that reach the host by construction are critical")
    func internalNames() {
        for host in [
            "localhost", "LOCALHOST.", "api.localhost", "ｌｏｃａｌｈｏｓｔ", "metadata.google.internal", "metadata",
            "instance-data", "metadata.goog", "app.localtest.me", "lvh.me", "10.0.0.1.nip.io", "app.10.0.0.1.nip.io",
            "app-10-0-0-1.nip.io", "0a000001.nip.io", "magic-a9fea9fe.nip.io", "169-254-169-254.sslip.io",
            "--1.sslip.io", "fe80--1.sslip.io", "127.0.0.1.xip.io", "7f000001.c0a80001.rbndr.us", "something.nip.io", "x.rebind.it",
            "nip.io",
        ] {
            let found = routeHints("http://\(host)/")
            #expect(found.contains { $0.severity == .critical && ["internal-name", "private-address"].contains($0.rule) }, "\(host): \(found.map(\.rule))")
        }
        // A public address spelled through a wildcard-DNS service is an address, not a name.
        #expect(routeHints("http://8.8.8.8.nip.io/").contains { $0.rule == "ip-address" && $0.severity == .warning })
        // Single-label and private-use names are a warning.
        #expect(routeHints("http://db/").contains { $0.rule == "internal-name" && $0.severity == .warning })
        #expect(routeHints("http://git.corp.internal/").contains { $0.rule == "internal-name" })
        #expect(!routeHints("https://registry.npmjs.org/").contains { $0.rule == "internal-name" })
    }

    @Test("an upstream under any folded key spelling, or a second upstream key, is judged")
    func upstreamKeySpellings() {
        for key in ["Upstream", "UPSTREAM", "ｕｐｓｔｒｅａｍ", "up\u{AD}stream", "url", "Target"] {
            #expect(critical(routeHints("https://pastebin.com/", key: key), "exfiltration-host"), "\(Escaped(key))")
        }
        let both = #"{"routes": [{"path": "/x/", "upstream": "https://pypi.org/", "url": "http://169.254.169.254/"}]}"#
        #expect(critical(RiskHints.assess(tool: .credProxyBlock, proposed: both, current: nil), "private-address"))
    }

    @Test("an unreadable upstream host is critical")
    func unreadable() {
        #expect(critical(routeHints("https://straße.example/"), "unreadable-host"))
        #expect(critical(routeHints("http://1.2.3.4.5/"), "unreadable-host"))
    }

    @Test("allowlist entries: internal names and address-embedding services are critical")
    func allowlistNames() {
        for entry in [
            "localhost", "LocalHost", "dev.localhost", "*.dev.localhost", "metadata.google.internal", "*.google.internal",
            "10-0-0-1.nip.io", "*.nip.io", "*.sslip.io", "app.lvh.me", "*.localtest.me", "metadata",
        ] {
            let found = allowlistHints(entry)
            #expect(found.contains { $0.severity == .critical }, "\(entry): \(found.map(\.rule))")
        }
        #expect(allowlistHints("PASTEBIN.COM").contains { $0.rule == "exfiltration-host" })
    }

    @Test("the allowlist validator refuses other spellings of an address and broken ones, with the line")
    func allowlistValidator() {
        for (entry, expected) in [
            ("0x7f.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("169.254.43518", "169.254.169.254"),
        ] {
            do {
                _ = try AllowlistDocument.parse("pypi.org\n\(entry)\n")
                Issue.record("\(entry) was accepted")
            } catch {
                #expect(error.problems.first?.line == 2)
                #expect(error.problems.first?.message.contains("write \(expected)") == true, "\(error.problems)")
            }
        }
        for entry in ["1.2.3.4.5", "example.123", "08.1.1.1", "*.10.0.0.1", "xn--zz.example"] {
            #expect(throws: ValidationError.self, "\(entry)") { try AllowlistDocument.parse("\(entry)\n") }
        }
        #expect(throws: Never.self) { try AllowlistDocument.parse("127.0.0.1\nxn--bcher-kva.example\nPyPI.org\n") }
    }

    @Test("routes.json keys equal under case or Unicode folding are refused on both sides, with the line")
    func foldedKeys() {
        for key in ["Upstream", "UPSTREAM", "ｕｐｓｔｒｅａｍ", "upstream\u{200B}", "ＵＰＳＴＲＥＡＭ", "up\u{AD}stream"] {
            let file = "{\"routes\": [{\"path\": \"/x/\",\n \"upstream\": \"https://pypi.org/\",\n \"\(key)\": \"https://pastebin.com/\"}]}"
            do {
                try ProposedFileValidator.validate(file, for: .credProxyBlock, current: nil)
                Issue.record("\(Escaped(key)) was accepted")
            } catch {
                #expect(error.problems.first?.line == 3, "\(Escaped(key))")
                #expect(error.problems.first?.message.contains("ignores case or Unicode width") == true, "\(error.problems)")
            }
        }
        // Exact duplicates keep their own message; distinct keys pass.
        #expect(throws: ValidationError.self) { try RoutesDocument.parse(#"{"routes": [], "routes": []}"#) }
        #expect(throws: Never.self) { try RoutesDocument.parse(#"{"routes": [{"path": "/a/", "paths": "x"}]}"#) }
    }
}
