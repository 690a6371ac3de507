import Foundation
import Hummingbird
import HummingbirdTesting
import Queue
import SystemPackage
import Testing

@testable import WebConsole

/// The web console's routes in process: who gets in, what a page shows, and
/// what a decision needs. The browser test (EndToEndTests) covers the rest.
@Suite("Web console")
struct WebConsoleTests {
    let root: String
    let configuration: WebConsoleConfiguration
    let sessions = SessionStore(accessToken: String(repeating: "ab", count: 32))

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/bottles/demo", withIntermediateDirectories: true)
        try Data("api.github.com\n".utf8).write(to: URL(fileURLWithPath: root + "/bottles/demo/allowlist"))
        try Data("[reload.allowlist]\ncommand = [\"true\"]\n".utf8).write(
            to: URL(fileURLWithPath: root + "/bottles/demo/supervise.toml"))
        configuration = WebConsoleConfiguration(
            tokenFile: FilePath(root + "/token"), queueRoot: FilePath(root + "/queue"),
            configRoot: FilePath(root + "/bottles"))
    }

    func propose(justification: String = "pip needs PyPI") async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: justification, currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await QueueRoot(FilePath(root + "/queue")).queue(for: proposal.bottle).submit(proposal)
        return proposal
    }

    func withClient(_ body: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void) async throws {
        let router = WebConsole(configuration: configuration).makeRouter(sessions: sessions, broadcast: QueueBroadcast())
        let app = Application(router: router)
        let code = await sessions.newLoginCode()
        let redeemed = await sessions.redeem(code: code)
        let session = try #require(redeemed)
        try await app.test(.router) { client in try await body(client, session.id) }
    }

    func headers(cookie: String? = nil, origin: String? = nil, form: Bool = false) -> HTTPFields {
        var fields = HTTPFields()
        if let cookie { fields[.cookie] = "bs_session=\(cookie)" }
        if let origin { fields[.origin] = origin }
        if form { fields[.contentType] = "application/x-www-form-urlencoded" }
        return fields
    }

    func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Opens a proposal's page as a reviewer would: the CSRF token and the digest of what was shown.
    func review(_ proposal: Proposal, client: any TestClientProtocol, cookie: String) async throws
        -> (token: String, reviewed: String)
    {
        let page = try await client.execute(
            uri: "/proposals/\(proposal.id)", method: .get, headers: headers(cookie: cookie))
        let html = String(buffer: page.body)
        return (try #require(csrfToken(in: html)), try #require(field("reviewed", in: html)))
    }

    /// Reviews the proposal's page, then approves it with that page's token and digest.
    func approveAsReviewed(_ proposal: Proposal, client: any TestClientProtocol, cookie: String) async throws {
        let (token, reviewed) = try await review(proposal, client: client, cookie: cookie)
        try await client.execute(
            uri: "/proposals/\(proposal.id)/decide", method: .post, headers: headers(cookie: cookie, form: true),
            body: ByteBuffer(string: "action=approve&csrf=\(token)&reviewed=\(reviewed)")
        ) { response in #expect(response.status == .seeOther) }
    }

    /// (A foreign `Host` is refused with 421 in the browser test: this in-process
    /// client always addresses the router as `localhost`.)
    @Test("a foreign Origin is refused with 403, a stranger gets the login page, pages carry a strict CSP")
    func gates() async throws {
        try await withClient { client, cookie in
            try await client.execute(uri: "/", method: .get, headers: headers(cookie: cookie, origin: "http://evil.example:9200")) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/", method: .get, headers: headers()) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("Log in"))
            }
            try await client.execute(uri: "/", method: .get, headers: headers(cookie: "0123")) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/", method: .get, headers: headers(cookie: cookie)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test("a login link works once and sets an HttpOnly, SameSite=Strict cookie; the token logs in too")
    func login() async throws {
        let router = WebConsole(configuration: configuration).makeRouter(sessions: sessions, broadcast: QueueBroadcast())
        let code = await sessions.newLoginCode()
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/login?code=\(code)", method: .get, headers: headers()) { response in
                #expect(response.status == .seeOther)
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.contains("HttpOnly"))
                #expect(cookie.contains("SameSite=Strict"))
                #expect(cookie.hasPrefix("bs_session="))
            }
            try await client.execute(uri: "/login?code=\(code)", method: .get, headers: headers()) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(
                uri: "/login", method: .post, headers: headers(form: true), body: ByteBuffer(string: "token=wrong")
            ) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/login", method: .post, headers: headers(form: true),
                body: ByteBuffer(string: "token=" + String(repeating: "ab", count: 32))
            ) { response in
                #expect(response.status == .seeOther)
            }
        }
    }

    @Test("agent text renders inert: HTML-escaped, control and bidi characters shown")
    func inert() async throws {
        let proposal = try await propose(
            justification: "<script>alert(1)</script>\"><img src=x onerror=alert(2)> \u{202E}evil\u{1B}[2J")
        try await withClient { client, cookie in
            try await client.execute(uri: "/", method: .get, headers: headers(cookie: cookie)) { response in
                let html = String(buffer: response.body)
                #expect(html.contains(proposal.id.rawValue))
                #expect(!html.contains("<script>alert"))
                #expect(!html.contains("<img src=x"))
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            }
            try await client.execute(uri: "/proposals/\(proposal.id)", method: .get, headers: headers(cookie: cookie)) { response in
                let html = String(buffer: response.body)
                #expect(!html.contains("<script>alert"))
                #expect(!html.contains("\u{202E}"))
                #expect(!html.contains("\u{1B}"))
                #expect(html.contains("\\u{202e}evil\\e[2J"))
            }
        }
    }

    @Test("a decision needs the CSRF token and the digest of what was shown; then it reaches the queue")
    func decide() async throws {
        let proposal = try await propose()
        let queue = QueueRoot(FilePath(root + "/queue")).queue(for: proposal.bottle)
        try await withClient { client, cookie in
            let (token, reviewed) = try await review(proposal, client: client, cookie: cookie)
            let uri = "/proposals/\(proposal.id)/decide"

            try await client.execute(
                uri: uri, method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=approve&csrf=wrong&reviewed=\(reviewed)")
            ) { response in #expect(response.status == .forbidden) }
            try await client.execute(
                uri: uri, method: .post, headers: headers(form: true),
                body: ByteBuffer(string: "action=approve&csrf=\(token)&reviewed=\(reviewed)")
            ) { response in #expect(response.status == .forbidden) }
            try await client.execute(
                uri: uri, method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=approve&csrf=\(token)&reviewed=\(String(repeating: "0", count: 64))")
            ) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("nothing was decided"))
            }
            try await client.execute(
                uri: uri, method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=reject&csrf=\(token)&reviewed=\(reviewed)&notes=")
            ) { response in #expect(response.status == .badRequest) }
            #expect(try queue.decision(proposal.id) == nil)

            try await client.execute(
                uri: uri, method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=modify&csrf=\(token)&reviewed=\(reviewed)&notes=only+pypi&final_file=api.github.com%0D%0Apypi.org%0D%0A")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/proposals/\(proposal.id)?done=modified")
            }
            let decision = try #require(try queue.decision(proposal.id))
            #expect(decision.status == .modified)
            #expect(decision.finalFile == "api.github.com\npypi.org\n")
            #expect(decision.notes == "only pypi")
            #expect(decision.decidedBy.hasSuffix("(web)"))

            try await client.execute(
                uri: uri, method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=approve&csrf=\(token)&reviewed=\(reviewed)")
            ) { response in #expect(response.status == .conflict) }
        }
    }

    @Test("a decided proposal's page shows what was applied, against the file it replaced, and the outcome once")
    func decidedPage() async throws {
        let proposal = try await propose()
        try await withClient { client, cookie in
            try await approveAsReviewed(proposal, client: client, cookie: cookie)
            let decided = String(
                buffer: try await client.execute(
                    uri: "/proposals/\(proposal.id)?done=approved", method: .get, headers: headers(cookie: cookie)
                ).body)
            #expect(decided.contains("What was applied: the approved allowlist, against the one it replaced"), "\(decided)")
            #expect(decided.contains("+pypi.org"), "\(decided)")
            #expect(decided.contains("host added: pypi.org"), "\(decided)")
            #expect(!decided.contains("applied: applied"), "\(decided)")
            #expect(!decided.contains("applied — applied"), "\(decided)")
            #expect(!decided.contains("replaced since"), "\(decided)")
        }
    }

    @Test("a decided proposal whose replaced file is no longer kept shows the applied file whole, as show does")
    func decidedPageReplacedGone() async throws {
        let proposal = try await propose()
        try await withClient { client, cookie in
            try await approveAsReviewed(proposal, client: client, cookie: cookie)
            // Later: the history is pruned and the bottle's file changed again.
            try FileManager.default.removeItem(atPath: root + "/bottles/demo/.history")
            try Data("other.example\n".utf8).write(to: URL(fileURLWithPath: root + "/bottles/demo/allowlist"))
            let page = String(
                buffer: try await client.execute(
                    uri: "/proposals/\(proposal.id)", method: .get, headers: headers(cookie: cookie)
                ).body)
            #expect(page.contains("The applied allowlist in full (the file it was compared with"), "\(page)")
            #expect(page.contains(#"<span class="ctx"> api.github.com</span>"#), "\(page)")
            #expect(page.contains(#"<span class="ctx"> pypi.org</span>"#), "\(page)")
            #expect(!page.contains(#"class="add""#) && !page.contains(#"class="del""#), "\(page)")
            #expect(page.contains("has been replaced since (a later approval or a rollback"), "\(page)")
        }
    }

    @Test("the access token file is created 0600 and reused; a file others can read is refused")
    func tokenFile() throws {
        let path = FilePath(root + "/secrets/web-token")
        let first = try AccessToken.loadOrCreate(at: path)
        #expect(first.count == 64)
        var info = stat()
        #expect(stat(path.string, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try AccessToken.loadOrCreate(at: path) == first)
        chmod(path.string, 0o644)
        #expect(throws: WebConsoleError.self) { try AccessToken.loadOrCreate(at: path) }
        #expect(tokenRefusal(path).contains("run: chmod 600 \(path)"))
        // A FIFO in its place is refused at once (nobody writes to it), a link is not followed.
        unlink(path.string)
        #expect(mkfifo(path.string, 0o600) == 0)
        #expect(tokenRefusal(path).contains("is not a small regular file"))
        unlink(path.string)
        let elsewhere = root + "/secrets/elsewhere"
        #expect(FileManager.default.createFile(atPath: elsewhere, contents: Data(String(repeating: "a", count: 64).utf8), attributes: [.posixPermissions: 0o600]))
        #expect(symlink(elsewhere, path.string) == 0)
        #expect(tokenRefusal(path).contains("a symbolic link is refused"))
    }

    /// The message `loadOrCreate` refuses the token file at `path` with (empty if it was read).
    private func tokenRefusal(_ path: FilePath) -> String {
        do {
            _ = try AccessToken.loadOrCreate(at: path)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("allowed hosts: loopback, the bind address and the listed names, with or without a port")
    func allowedHosts() {
        let hosts = AllowedHosts(bind: "192.0.2.10", extra: ["Laptop.Local"])
        for host in ["127.0.0.1:9200", "localhost", "[::1]:9200", "192.0.2.10:9200", "laptop.local:8443"] {
            #expect(hosts.allows(host: host), "\(host)")
        }
        for host in ["evil.example", "127.0.0.1.evil.example:9200", "", "localhost.:9200"] {
            #expect(!hosts.allows(host: host), "\(host)")
        }
        #expect(!hosts.allows(origin: "null", requestHost: "localhost:9200"))
        #expect(!hosts.allows(origin: "http://evil.example", requestHost: "localhost:9200"))
    }

    @Test("the Origin must be the console's own: scheme, name and port, as the request's Host")
    func originComparesSchemeHostAndPort() {
        let plain = AllowedHosts(bind: "127.0.0.1", extra: ["laptop.local"])
        #expect(plain.allows(origin: "http://127.0.0.1:9200", requestHost: "127.0.0.1:9200"))
        #expect(plain.allows(origin: "http://LOCALHOST:9200", requestHost: "localhost:9200"))
        #expect(plain.allows(origin: "http://[::1]:9200", requestHost: "[::1]:9200"))
        #expect(plain.allows(origin: "http://laptop.local", requestHost: "laptop.local:80"))
        #expect(plain.allows(origin: "http://laptop.local:80", requestHost: "laptop.local"))
        for (origin, host) in [
            ("http://127.0.0.1:9999", "127.0.0.1:9200"),  // another local service's page
            ("http://localhost:9200", "127.0.0.1:9200"),  // another name is another origin
            ("https://127.0.0.1:9200", "127.0.0.1:9200"),  // another scheme
            ("http://127.0.0.1", "127.0.0.1:9200"),
            ("http://127.0.0.1:9200/", "127.0.0.1:9200"),
            ("http://user@127.0.0.1:9200", "127.0.0.1:9200"),
            ("http://127.0.0.1:09200x", "127.0.0.1:9200"),
            ("http://127.0.0.1:+9200", "127.0.0.1:9200"),
            ("http://127.0.0.1:99999", "127.0.0.1:99999"),
            ("http://evil.example:9200", "evil.example:9200"),
        ] {
            #expect(!plain.allows(origin: origin, requestHost: host), "\(origin) for Host \(host)")
        }
        #expect(!plain.allows(origin: "http://127.0.0.1:9200", requestHost: nil))
        let tls = AllowedHosts(bind: "127.0.0.1", extra: ["laptop.local"], scheme: "https")
        #expect(tls.allows(origin: "https://laptop.local:8443", requestHost: "laptop.local:8443"))
        #expect(tls.allows(origin: "https://laptop.local", requestHost: "laptop.local:443"))
        #expect(!tls.allows(origin: "http://laptop.local:8443", requestHost: "laptop.local:8443"))
    }
}
