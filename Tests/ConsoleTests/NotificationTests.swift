import Eventually
import Foundation
import Logging
import Queue
import SystemPackage
import Testing

@testable import Console

@Suite("Notifications")
struct NotificationTests {
    static let proposal = Proposal(
        bottle: try! BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\n*.github.io\n",
        justification: "docs <!channel> @here \u{1B}]0;pwned\u{07} & more\nsecond line",
        currentFileSHA256: SHA256Hex.of("api.github.com\n"))

    var notification: ProposalNotification {
        ProposalNotification(proposal: Self.proposal, currentFile: "api.github.com\n", consoleURL: "https://c.example")
    }

    @Test("settings: channels parsed; secrets only from a 0600 file or the environment")
    func settings() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secret = directory + "/slack"
        try Data("https://hooks.slack.example/T/B/x\n".utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        let text = """
            [notify]
            desktop = true
            retry_delay = 0.5
            [[notify.webhook]]
            url = "https://hooks.example/a"
            token_env = "HOOK_TOKEN"
            [notify.ntfy]
            topic_env = "NTFY_TOPIC"
            [notify.slack]
            url_file = "\(secret)"
            """
        let parsed = try NotifySettings.parse(text, environment: ["HOOK_TOKEN": "t0k", "NTFY_TOPIC": "bottles-x1"])
        #expect(
            parsed.channels == [
                .desktop, .webhook(url: "https://hooks.example/a", token: "t0k"),
                .ntfy(server: "https://ntfy.sh", topic: "bottles-x1", token: nil),
                .slack(url: "https://hooks.slack.example/T/B/x"),
            ])
        #expect(parsed.retryDelay == .milliseconds(500))

        chmod(secret, 0o644)
        #expect(throws: NotifySettingsError.self) { try NotifySettings.parse(text, environment: ["HOOK_TOKEN": "t", "NTFY_TOPIC": "x"]) }
        do {
            _ = try NotifySettings.parse(text, environment: ["HOOK_TOKEN": "t", "NTFY_TOPIC": "x"])
        } catch {
            #expect(error.description.contains("chmod 600"))
        }
        for bad in [
            "[notify.slack]\nurl = \"https://hooks.slack.example/x\"",  // a secret inline
            "[[notify.webhook]]\nurl = \"https://a\"\ntoken = \"inline\"",
            "[notify.ntfy]\ntopic = \"mine\"",
            "[notify]\nwebhok = 1",  // a typo is named, not ignored
            "[notify.ntfy]\ntopic_env = \"MISSING\"",
            "[[notify.webhook]]\nurl = \"ftp://x\"",
        ] {
            #expect(throws: NotifySettingsError.self, "\(bad)") { try NotifySettings.parse(bad, environment: [:]) }
        }
        #expect(try NotifySettings.parse("[reload.routes]\ncommand = [\"true\"]", environment: [:]).isEnabled == false)
    }

    @Test("the notification escapes agent text; Slack markup can't mention or link")
    func escaping() throws {
        let note = notification
        #expect(note.highestRisk == .critical)
        #expect(note.link == "https://c.example/proposals/\(Self.proposal.id)")
        #expect(!note.justification.contains("\u{1B}"))
        #expect(!note.justification.contains("second line"))
        let slack = try #require(NotificationChannel.slack(url: "https://s").request(for: note))
        let body = try #require(try JSONSerialization.jsonObject(with: slack.body) as? [String: Any])
        let text = try #require(body["text"] as? String)
        #expect(!text.contains("<!channel>"))
        #expect(text.contains("&lt;!channel&gt;"))
        #expect(!text.contains("@here"))
        #expect(text.contains("&amp; more"))
        #expect(body["link_names"] as? Bool == false)

        let ntfy = try #require(
            NotificationChannel.ntfy(server: "https://n.example/", topic: "t", token: "k").request(for: note))
        #expect(ntfy.url == "https://n.example/t")
        #expect(ntfy.headers["Priority"] == "5")
        #expect(ntfy.headers["Authorization"] == "Bearer k")
        #expect(ntfy.headers["Click"] == note.link)
        #expect(ntfy.headers.values.allSatisfy { !$0.contains("\n") })
    }

    /// Answers from a script, one status per call (an error for `nil`); records each request.
    final class ScriptedTransport: NotificationTransport, @unchecked Sendable {
        let lock = NSLock()
        var script: [Int?]
        var requests: [NotificationRequest] = []
        let hang: Bool
        init(_ script: [Int?], hang: Bool = false) {
            self.script = script
            self.hang = hang
        }
        func post(_ request: NotificationRequest, timeout: Duration) async throws -> Int {
            let next: Int?? = lock.withLock {
                requests.append(request)
                return script.isEmpty ? .some(200) : script.removeFirst()
            }
            if hang { try await Task.sleep(for: .seconds(3600)) }
            guard let status = next ?? nil else { throw URLError(.cannotConnectToHost) }
            return status
        }
        var count: Int { lock.withLock { requests.count } }
    }

    func notifier(
        _ transport: ScriptedTransport, root: String, attempts: Int = 8, status: @escaping Notifier.StatusHandler = { _, _ in }
    ) -> (Notifier, Delays) {
        var settings = NotifySettings()
        settings.channels = [.webhook(url: "https://hooks.example/a", token: nil)]
        settings.attempts = attempts
        let delays = Delays()
        let notifier = Notifier(
            settings: settings, queueRoot: FilePath(root), configRoot: FilePath(root + "/bottles"), transport: transport,
            sleep: { delays.record($0) }, now: { Date() }, logger: Logger(label: "test"), onStatus: status)
        return (notifier, delays)
    }

    final class Delays: @unchecked Sendable {
        let lock = NSLock()
        var values: [Duration] = []
        func record(_ value: Duration) { lock.withLock { values.append(value) } }
    }

    func scratchRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    @Test("failures are retried with doubling delays; a refusal (4xx) is not retried")
    func retries() async throws {
        let root = try scratchRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let flaky = ScriptedTransport([503, nil, 503, 503, 503, 200])
        let (notifier, delays) = notifier(flaky, root: root)
        #expect(await notifier.deliver(notification, on: .webhook(url: "https://h", token: nil)))
        #expect(flaky.count == 6)
        #expect(delays.values == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])

        let refused = ScriptedTransport([404])
        let statuses = Delays()
        let (strict, _) = self.notifier(refused, root: root) { text, isError in
            if isError, text.contains("HTTP 404") { statuses.record(.zero) }
        }
        #expect(await strict.deliver(notification, on: .webhook(url: "https://h", token: nil)) == false)
        #expect(refused.count == 1)
        #expect(statuses.values.count == 1)

        let down = ScriptedTransport([nil, nil, nil])
        let (limited, _) = self.notifier(down, root: root, attempts: 3)
        #expect(await limited.deliver(notification, on: .webhook(url: "https://h", token: nil)) == false)
        #expect(down.count == 3)
    }

    @Test("notice returns at once with a hanging receiver, and two notifiers announce a proposal once")
    func onceAndNonBlocking() async throws {
        let root = try scratchRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hanging = ScriptedTransport([], hang: true)
        let (first, _) = notifier(hanging, root: root)
        let (second, _) = notifier(hanging, root: root)
        let start = ContinuousClock.now
        await first.notice([Self.proposal])
        await second.notice([Self.proposal])
        await first.notice([Self.proposal])
        // The receiver hangs for an hour: returning within seconds (on a loaded machine) is returning at once.
        #expect(ContinuousClock.now - start < .seconds(20))
        try await eventually("the one announcement is sent") { hanging.count == 1 }
        // Nothing is left to announce by either notifier, so no second request can follow.
        #expect(await first.hasAnnouncementsDue == false)
        #expect(await second.hasAnnouncementsDue == false)
        #expect(hanging.count == 1)
        await first.cancelAll()
        await second.cancelAll()
    }

    @Test("a proposal the host first saw longer ago than max_age is not announced; an old created_at is")
    func oldProposals() async throws {
        let root = try scratchRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let transport = ScriptedTransport([])
        var settings = NotifySettings()
        settings.channels = [.webhook(url: "https://h", token: nil)]
        let later = Self.proposal.createdAt.addingTimeInterval(7200)
        // Seen by a host process two hours ago (say, a console without notifications).
        _ = HostFirstSeen(queueRoot: FilePath(root)).record(Self.proposal.id, of: Self.proposal.bottle, now: Self.proposal.createdAt)
        let notifier = Notifier(
            settings: settings, queueRoot: FilePath(root), configRoot: FilePath(root), transport: transport,
            sleep: { _ in }, now: { later }, logger: Logger(label: "test"), onStatus: { _, _ in })
        await notifier.notice([Self.proposal])
        await notifier.drain()
        #expect(transport.count == 0)

        // The sidecar says four hours ago; the host sees it now: announced, with both times.
        let backdated = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip", currentFileSHA256: SHA256Hex.of("api.github.com\n"),
            createdAt: later.addingTimeInterval(-4 * 3600))
        await notifier.notice([backdated])
        await notifier.drain()
        #expect(transport.count == 1)
        let request = try #require(transport.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(body["first_seen"] as? String == Timestamp.format(later))
        #expect(body["created_at"] as? String == Timestamp.format(backdated.createdAt))
        #expect((body["summary"] as? [String]) != nil)
        await notifier.cancelAll()
    }

}
