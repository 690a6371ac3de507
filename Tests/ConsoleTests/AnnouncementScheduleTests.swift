import Foundation
import Logging
import Queue
import SystemPackage
import Synchronization
import Testing

@testable import Console

/// Notifications an agent can neither flood nor hide, on an injected clock:
/// a bottle's burst is one message, a cap per minute across bottles, the
/// riskiest first at its priority, ages from the host's first sight, and one
/// reminder for a proposal still pending (docs/notifications.md).
@Suite("Notification rate limits and reminders")
struct AnnouncementScheduleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func proposal(_ bottle: String, _ host: String, at offset: TimeInterval = 0) -> Proposal {
        Proposal(
            bottle: try! BottleSlug(bottle), tool: .pipelockBlock, proposedFile: "api.github.com\n\(host)\n",
            justification: "needs \(host)", currentFileSHA256: SHA256Hex.of("api.github.com\n"),
            createdAt: start.addingTimeInterval(offset))
    }

    static func item(_ proposal: Proposal, current: String? = "api.github.com\n", seen: TimeInterval = 0)
        -> AnnouncementSchedule.Item
    {
        let notification = ProposalNotification(proposal: proposal, currentFile: current, consoleURL: nil)
        return .init(notification: notification, firstSeen: start.addingTimeInterval(seen))
    }

    @Test("300 proposals from one bottle in 5 s are two messages: the first at once, the rest together")
    func burstFromOneBottle() {
        var schedule = AnnouncementSchedule(limits: .init(bottleWindow: 30, perMinute: 12))
        var sent: [[AnnouncementSchedule.Item]] = []
        for index in 0..<300 {
            let at = Double(index) * 5 / 300
            schedule.add(Self.item(Self.proposal("web-1", "h\(index).example", at: at), seen: at))
            sent += schedule.due(at: Self.start.addingTimeInterval(at))
        }
        #expect(sent.map(\.count) == [1])
        #expect(schedule.nextDue(after: Self.start.addingTimeInterval(5)) == Self.start.addingTimeInterval(30))
        #expect(schedule.due(at: Self.start.addingTimeInterval(29)).isEmpty)
        let rest = schedule.due(at: Self.start.addingTimeInterval(30))
        #expect(rest.map(\.count) == [299])
        #expect(schedule.isIdle)
        let message = ProposalNotification.grouped(rest[0].map(\.notification))
        #expect(message.title == "299 new proposals from web-1")
        #expect(message.ids.count == 299)
        #expect(message.lines.count == 12)  // ten proposals, "… and 289 more", where to decide
        #expect(message.lines.contains("… and 289 more"))
    }

    @Test("a cap per minute across bottles: the minute's last message gathers every bottle still due")
    func capAcrossBottles() {
        var schedule = AnnouncementSchedule(limits: .init(bottleWindow: 30, perMinute: 12))
        for index in 0..<40 { schedule.add(Self.item(Self.proposal("b\(index)", "h.example"), seen: Double(index))) }
        let first = schedule.due(at: Self.start.addingTimeInterval(40))
        #expect(first.count == 12)
        #expect(first.prefix(11).allSatisfy { $0.count == 1 })
        #expect(first.last?.count == 29)
        #expect(ProposalNotification.grouped(first.last!.map(\.notification)).title == "29 new proposals from 29 bottles")
        #expect(schedule.isIdle)
        // More arrive within the minute: nothing is sent until a message of the last 60 s ages out.
        schedule.add(Self.item(Self.proposal("late", "h.example", at: 45), seen: 45))
        #expect(schedule.due(at: Self.start.addingTimeInterval(50)).isEmpty)
        #expect(schedule.nextDue(after: Self.start.addingTimeInterval(50)) == Self.start.addingTimeInterval(100))
        #expect(schedule.due(at: Self.start.addingTimeInterval(100)).map(\.count) == [1])
    }

    @Test("the riskiest bottle goes first, and a group carries its most severe hint")
    func priority() {
        var schedule = AnnouncementSchedule(limits: .init(bottleWindow: 30, perMinute: 2))
        schedule.add(Self.item(Self.proposal("calm", "docs.python.org"), seen: 0))
        schedule.add(Self.item(Self.proposal("other", "docs.rust-lang.org"), seen: 1))
        schedule.add(Self.item(Self.proposal("risky", "webhook.site"), seen: 2))
        let sent = schedule.due(at: Self.start.addingTimeInterval(3))
        #expect(sent.first?.first?.notification.bottle.rawValue == "risky")
        #expect(sent.first?.first?.notification.highestRisk == .critical)
        let group = ProposalNotification.grouped(sent.last!.map(\.notification))
        #expect(group.title == "2 new proposals from 2 bottles" || group.title.hasPrefix("2 new proposals from 2 bottles ["))

        var burst = AnnouncementSchedule(limits: .init(bottleWindow: 30, perMinute: 12))
        burst.add(Self.item(Self.proposal("web-1", "docs.python.org"), seen: 0))
        _ = burst.due(at: Self.start)
        burst.add(Self.item(Self.proposal("web-1", "pypi.org"), seen: 1))
        burst.add(Self.item(Self.proposal("web-1", "webhook.site"), seen: 2))
        let held = burst.due(at: Self.start.addingTimeInterval(30))
        let message = ProposalNotification.grouped(held[0].map(\.notification))
        #expect(message.highestRisk == .critical)
        #expect(message.title == "2 new proposals from web-1 [critical]")
        #expect(message.lines.first?.contains("webhook.site") == true)
        // ntfy's priority follows it.
        let request = NotificationChannel.ntfy(server: "https://n.example", topic: "t", token: nil).request(for: message)
        #expect(request?.headers["Priority"] == "5")
    }

    final class Sent: NotificationTransport, @unchecked Sendable {
        let lock = NSLock()
        var bodies: [[String: Any]] = []
        func post(_ request: NotificationRequest, timeout: Duration) async throws -> Int {
            let body = (try? JSONSerialization.jsonObject(with: request.body) as? [String: Any]) ?? [:]
            lock.withLock { bodies.append(body) }
            return 200
        }
        var all: [[String: Any]] { lock.withLock { bodies } }
    }

    @Test("a proposal still pending after remind_after is announced again once; a decided one is not")
    func reminders() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("remind-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bottle = try BottleSlug("web-1")
        let queue = QueueRoot(FilePath(root)).queue(for: bottle)
        try queue.prepare()
        let waiting = Self.proposal("web-1", "pypi.org")
        let decided = Self.proposal("web-1", "docs.python.org")
        _ = try await queue.submit(waiting)
        _ = try await queue.submit(decided)

        let clock = Mutex(Self.start)
        var settings = NotifySettings()
        settings.channels = [.webhook(url: "https://h", token: nil)]
        settings.remindAfter = .seconds(600)
        settings.coalesceWindow = .seconds(30)
        let transport = Sent()
        let notifier = Notifier(
            settings: settings, queueRoot: FilePath(root), configRoot: FilePath(root + "/bottles"),
            transport: transport, sleep: { _ in }, now: { clock.withLock { $0 } }, logger: Logger(label: "test"),
            onStatus: { _, _ in })
        defer { Task { await notifier.cancelAll() } }
        await notifier.notice([waiting, decided])
        clock.withLock { $0 = Self.start.addingTimeInterval(30) }
        await notifier.tick()
        await notifier.drain()
        #expect(transport.all.count == 1)  // both arrived together: one message
        #expect(transport.all.first?["count"] as? Int == 2)
        try queue.decide(Decision(id: decided.id, status: .rejected, notes: "no", decidedBy: "op"))

        clock.withLock { $0 = Self.start.addingTimeInterval(599) }
        await notifier.tick()
        await notifier.drain()
        #expect(transport.all.count == 1)
        clock.withLock { $0 = Self.start.addingTimeInterval(600) }
        await notifier.tick()
        await notifier.drain()
        #expect(transport.all.count == 2)
        let reminder = try #require(transport.all.last)
        #expect(reminder["event"] as? String == "proposal.reminder")
        #expect(reminder["ids"] as? [String] == [waiting.id.rawValue])
        #expect((reminder["title"] as? String)?.hasPrefix("still waiting: ") == true)

        clock.withLock { $0 = Self.start.addingTimeInterval(7200) }
        await notifier.tick()
        await notifier.drain()
        #expect(transport.all.count == 2, "one reminder, not one per tick")
        // Another watcher (a second process) does not remind again either.
        let second = Notifier(
            settings: settings, queueRoot: FilePath(root), configRoot: FilePath(root + "/bottles"),
            transport: transport, sleep: { _ in }, now: { clock.withLock { $0 } }, logger: Logger(label: "test"),
            onStatus: { _, _ in })
        await second.notice([waiting])
        await second.tick()
        await second.drain()
        await second.cancelAll()
        #expect(transport.all.count == 2)
    }
}
