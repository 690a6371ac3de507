import Console
import Foundation
import Hummingbird
import HummingbirdTesting
import Queue
import SystemPackage
import Testing

@testable import WebConsole

/// The web page's part in standing rules and preset answers: the answer
/// buttons, "Approve and remember", the banner when the rules are off, and
/// extending a proposal's deadline.
@Suite("Web console: policy")
struct WebPolicyTests {
    let base: WebConsoleTests
    var root: String { base.root }

    init() throws { base = try WebConsoleTests() }

    func configured(_ settings: String) -> WebConsoleConfiguration {
        try! Data(settings.utf8).write(to: URL(fileURLWithPath: root + "/host.toml"))
        var configuration = base.configuration
        configuration.policy = PolicySource(settings: FilePath(root + "/host.toml"))
        return configuration
    }

    func withClient(
        _ configuration: WebConsoleConfiguration, _ body: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void
    ) async throws {
        let router = WebConsole(configuration: configuration).makeRouter(sessions: base.sessions, broadcast: QueueBroadcast())
        let code = await base.sessions.newLoginCode()
        let session = try #require(await base.sessions.redeem(code: code))
        try await Application(router: router).test(.router) { client in try await body(client, session.id) }
    }

    func post(_ proposal: Proposal, _ fields: String, client: any TestClientProtocol, cookie: String) async throws
        -> (status: HTTPResponse.Status, body: String)
    {
        let (token, reviewed) = try await base.review(proposal, client: client, cookie: cookie)
        let response = try await client.execute(
            uri: "/proposals/\(proposal.id)/decide", method: .post, headers: base.headers(cookie: cookie, form: true),
            body: ByteBuffer(string: "\(fields)&csrf=\(token)&reviewed=\(reviewed)"))
        return (response.status, String(buffer: response.body))
    }

    var queue: BottleQueue { QueueRoot(FilePath(root + "/queue")).queue(for: try! BottleSlug("demo")) }

    static let settings = """
        [answers]
        use-mirror = "Use the internal mirror at pypi.internal.example instead."
        """

    @Test("a preset answer's button rejects with its text as the notes and its name in the decision")
    func presetAnswer() async throws {
        let configuration = configured(Self.settings)
        let proposal = try await base.propose()
        try await withClient(configuration) { client, cookie in
            let page = try await client.execute(uri: "/proposals/\(proposal.id)", method: .get, headers: base.headers(cookie: cookie))
            #expect(String(buffer: page.body).contains("Reject: use-mirror"))
            let posted = try await post(proposal, "preset=use-mirror&notes=", client: client, cookie: cookie)
            #expect(posted.status == .seeOther, "\(posted.body)")
        }
        let decision = try #require(try queue.decision(proposal.id))
        #expect(decision.status == .rejected)
        #expect(decision.answer == "use-mirror")
        #expect(decision.notes == "Use the internal mirror at pypi.internal.example instead.")
    }

    @Test("an unknown preset answer decides nothing")
    func unknownAnswer() async throws {
        let configuration = configured(Self.settings)
        let proposal = try await base.propose()
        try await withClient(configuration) { client, cookie in
            let posted = try await post(proposal, "action=reject&answer=nope&notes=", client: client, cookie: cookie)
            #expect(posted.status == .badRequest)
        }
        #expect(try queue.decision(proposal.id) == nil)
    }

    @Test("Approve and remember approves and writes a rule for exactly that host and bottle, beside host.toml")
    func approveAndRemember() async throws {
        let configuration = configured(Self.settings)
        let proposal = try await base.propose()
        try await withClient(configuration) { client, cookie in
            let posted = try await post(proposal, "action=approve-remember&notes=", client: client, cookie: cookie)
            #expect(posted.status == .seeOther, "\(posted.body)")
        }
        #expect(try queue.decision(proposal.id)?.status == .approved)
        let policy = try HostPolicy.load(settings: FilePath(root + "/host.toml"))
        let rule = try #require(policy.rules.last)
        #expect(rule.bottles == ["demo"])
        #expect(rule.hosts?.map(\.text) == ["pypi.org"])
        #expect(try String(contentsOfFile: root + "/host.toml", encoding: .utf8) == Self.settings)
    }

    @Test("a broken policy: the pages say the rules are off")
    func banner() async throws {
        let configuration = configured("[[policy.rule]]\nname = \"x\"\nbogus = 1\n")
        let proposal = try await base.propose()
        try await withClient(configuration) { client, cookie in
            for uri in ["/", "/proposals/\(proposal.id)"] {
                let page = try await client.execute(uri: uri, method: .get, headers: base.headers(cookie: cookie))
                let html = String(buffer: page.body)
                #expect(html.contains("The standing rules are off"), "\(uri)")
                #expect(html.contains("policy.rule[1].bogus"), "\(uri)")
            }
        }
    }

    @Test("Extend moves the deadline an hour, bounded at a day; the sidecar's sweep honours it")
    func extend() async throws {
        let configuration = configured(Self.settings)
        // A deadline ten minutes away: it cannot pass while the test runs, even on a loaded machine.
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "x", currentFileSHA256: SHA256Hex.of("api.github.com\n"),
            expiresAt: Date().addingTimeInterval(600))
        _ = try await queue.submit(proposal)
        try await withClient(configuration) { client, cookie in
            let posted = try await post(proposal, "action=extend", client: client, cookie: cookie)
            #expect(posted.status == .ok, "\(posted.body)")
            #expect(posted.body.contains("Extended"))
        }
        let own = try #require(proposal.expiresAt)
        let extended = try #require(queue.deadline(of: proposal))
        #expect(abs(extended.timeIntervalSince(own) - 3600) < 5, "\(extended) vs \(own)")
        #expect(try queue.decision(proposal.id) == nil)
        #expect(!queue.isExpired(proposal, at: own.addingTimeInterval(10)))
        #expect(queue.isExpired(proposal, at: extended.addingTimeInterval(1)))
        // Pressed again and again, it stops at a day past the sidecar's deadline.
        for _ in 0..<30 { _ = try? queue.extendDeadline(of: proposal, by: 3600) }
        #expect(queue.deadline(of: proposal) == own.addingTimeInterval(BottleQueue.maximumExtension))
        #expect(throws: QueueError.self) { try queue.extendDeadline(of: proposal, by: 3600) }
    }

    @Test("an extension file the sidecar finds is bounded however it was written: a year away counts as a day; garbage as nothing")
    func extensionBounded() async throws {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "x", currentFileSHA256: nil, expiresAt: Date().addingTimeInterval(60))
        _ = try await queue.submit(proposal)
        let own = try #require(proposal.expiresAt)
        let path = root + "/queue/demo/\(proposal.id).extended"
        try Data("2099-01-01T00:00:00.000Z\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(queue.deadline(of: proposal) == own.addingTimeInterval(BottleQueue.maximumExtension))
        try Data("2000-01-01T00:00:00.000Z\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(queue.deadline(of: proposal) == own)  // never shortened
        try Data("tomorrow".utf8).write(to: URL(fileURLWithPath: path))
        #expect(queue.deadline(of: proposal) == own)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/hostname")
        #expect(queue.deadline(of: proposal) == own)
    }
}
