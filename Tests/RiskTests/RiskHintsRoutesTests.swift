import Testing

@testable import Queue
@testable import Risk

@Suite("Risk hints: routes.json")
struct RiskHintsRoutesTests {
    static let current = #"""
        {"routes": [
          {"path": "/github/repos/acme/", "upstream": "https://api.github.com", "credential": "github-token", "methods": ["GET"]},
          {"path": "/pypi/", "upstream": "https://pypi.org/simple/"}
        ]}
        """#

    func hints(_ routes: String...) -> [RiskHint] {
        let proposed = #"{"routes": ["# + (Self.routesOfCurrent + routes).joined(separator: ",\n") + "]}"
        return RiskHints.assess(tool: .credProxyBlock, proposed: proposed, current: Self.current)
    }

    static let routesOfCurrent = [
        #"{"path": "/github/repos/acme/", "upstream": "https://api.github.com", "credential": "github-token", "methods": ["GET"]}"#,
        #"{"path": "/pypi/", "upstream": "https://pypi.org/simple/"}"#,
    ]

    @Test("unchanged routes give no hints")
    func unchanged() {
        #expect(hints().isEmpty)
    }

    @Test("a credential for a host that had none is critical")
    func credentialForNewHost() {
        let found = hints(#"{"path": "/x/", "upstream": "https://collector.example.net/in", "header": "Authorization"}"#)
        #expect(found.map(\.rule) == ["credential-new-host"])
        #expect(found.first?.severity == .critical)
        #expect(found.first?.line == 3)
        // A credential for pypi.org, which had a route but no credential, is critical too.
        #expect(hints(#"{"path": "/pypi2/", "upstream": "https://pypi.org", "token": "pypi"}"#).map(\.rule) == ["credential-new-host"])
    }

    @Test("a new upstream host without a credential is a warning; a known host is not hinted")
    func newUpstreamHost() {
        #expect(hints(#"{"path": "/npm/", "upstream": "https://registry.npmjs.org"}"#).map(\.rule) == ["new-upstream-host"])
        #expect(hints(#"{"path": "/pypi-files/", "upstream": "https://PyPI.org:443/files"}"#).isEmpty)
    }

    @Test("a credential over plain http is a warning")
    func plainHTTP() {
        let found = hints(#"{"path": "/gh2/", "upstream": "http://api.github.com", "credential": "github-token"}"#)
        #expect(found.map(\.rule) == ["plain-http-credential"])
    }

    @Test("request bins and private addresses as upstreams are critical")
    func exfiltrationAndPrivate() {
        #expect(hints(#"{"path": "/h/", "upstream": "https://webhook.site/abc"}"#).contains { $0.rule == "exfiltration-host" })
        #expect(hints(#"{"path": "/m/", "upstream": "http://169.254.169.254/latest"}"#).contains { $0.rule == "private-address" })
        #expect(hints(#"{"path": "/l/", "upstream": "http://[::1]:8080/"}"#).contains { $0.rule == "private-address" })
    }

    @Test("a broader path on the same host, or a catch-all path, is a warning")
    func broadenedPath() {
        let broader = hints(#"{"path": "/github/", "upstream": "https://api.github.com", "credential": "github-token", "methods": ["GET"]}"#)
        #expect(broader.map(\.rule) == ["broadened-path"])
        #expect(broader.first?.reason.contains("/github/repos/acme/") == true)
        #expect(hints(#"{"path": "/", "upstream": "https://pypi.org"}"#).map(\.rule) == ["broadened-path"])
        #expect(hints(#"{"path": "/pypi/*", "upstream": "https://pypi.org"}"#).map(\.rule) == ["broadened-path"])
    }

    @Test("more methods on the same route, or none named, is a warning")
    func broadenedMethods() {
        let more = hints(#"{"path": "/github/repos/acme/", "upstream": "https://api.github.com", "credential": "github-token", "methods": ["GET", "DELETE"]}"#)
        #expect(more.map(\.rule) == ["broadened-methods"])
        #expect(more.first?.reason.contains("DELETE") == true)
        let all = hints(#"{"path": "/github/repos/acme/", "upstream": "https://api.github.com", "credential": "github-token"}"#)
        #expect(all.map(\.rule) == ["broadened-methods"])
        let fewer = hints(#"{"path": "/github/repos/acme/", "upstream": "https://api.github.com", "credential": "github-token", "methods": "get"}"#)
        #expect(fewer.isEmpty)
    }

    @Test("upstreams are parsed from URLs and bare hosts")
    func upstreamParsing() {
        #expect(RouteFields.split("https://user@Api.Example.com:8443/v1/?q#f") == ("https", "api.example.com"))
        #expect(RouteFields.split("api.example.com:443") == (nil, "api.example.com"))
        #expect(RouteFields.split("http://[fd00::1]:80/") == ("http", "[fd00::1]"))
        #expect(RouteFields.split("") == (nil, nil))
    }
}
