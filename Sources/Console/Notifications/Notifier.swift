import Apply
import Foundation
import Logging
import Queue
import SystemPackage

/// Tells the operator about each new proposal on every configured channel,
/// once across all host processes that watch the queue.
///
/// A watcher (the console, `bottle-supervise notify`, the web console)
/// hands it the pending proposals it sees with ``notice(_:)``, which returns
/// at once: each channel's delivery runs in a task of its own, with retries
/// and exponential backoff, so a slow or hanging receiver never holds up the
/// console, a decision or another channel. Outcomes reach the watcher
/// through `onStatus` (the console shows them in its status line) and the log.
///
/// What an agent cannot do with it: flood (a bottle's burst is one message,
/// and there is a cap per minute across bottles: ``AnnouncementSchedule``),
/// hide (a proposal is aged by when the host first saw it, ``HostFirstSeen``,
/// not by the `created_at` the sidecar writes), or wait unnoticed (a proposal
/// still pending ``NotifySettings/remindAfter`` after the host first saw it
/// is announced once more).
public actor Notifier {
    /// A line for the operator about deliveries (a failure, a recovery).
    public typealias StatusHandler = @Sendable (_ text: String, _ isError: Bool) -> Void

    private let settings: NotifySettings
    private let marker: NotificationMarker
    private let configRoot: ConfigRoot
    private let transport: any NotificationTransport
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> Date
    private let onStatus: StatusHandler
    private let logger: Logger
    private var seen: Set<ProposalID> = []
    private var deliveries: [Task<Void, Never>] = []
    private let queueRoot: FilePath
    private let firstSeen: HostFirstSeen
    private var schedule: AnnouncementSchedule
    /// Proposals announced (or seen) and not reminded yet, with when the host first saw them.
    private var awaitingReminder: [ProposalID: (notification: ProposalNotification, firstSeen: Date)] = [:]
    /// Wakes the notifier while messages wait for their time or reminders are due.
    private var timer: Task<Void, Never>?

    /// A notifier for the queues under `queueRoot`, reading each bottle's
    /// current file under `configRoot` for the summary and risk hints.
    public init(
        settings: NotifySettings, queueRoot: FilePath, configRoot: FilePath,
        logger: Logger = Logger(label: "bottle-supervise.notify"),
        onStatus: @escaping StatusHandler = { _, _ in }
    ) {
        self.init(
            settings: settings, queueRoot: queueRoot, configRoot: configRoot, transport: URLSessionTransport(),
            sleep: { try await Task.sleep(for: $0) }, now: { Date() }, logger: logger, onStatus: onStatus)
    }

    init(
        settings: NotifySettings, queueRoot: FilePath, configRoot: FilePath, transport: any NotificationTransport,
        sleep: @escaping @Sendable (Duration) async throws -> Void, now: @escaping @Sendable () -> Date,
        logger: Logger, onStatus: @escaping StatusHandler
    ) {
        self.settings = settings
        self.queueRoot = queueRoot
        self.firstSeen = HostFirstSeen(queueRoot: queueRoot)
        self.schedule = AnnouncementSchedule(
            limits: .init(bottleWindow: settings.coalesceWindow.seconds, perMinute: settings.maxPerMinute))
        self.marker = NotificationMarker(queueRoot: queueRoot.string)
        self.configRoot = ConfigRoot(configRoot)
        self.transport = transport
        self.sleep = sleep
        self.now = now
        self.logger = logger
        self.onStatus = onStatus
        marker.prune()
        firstSeen.prune()
    }

    /// Announces each of `proposals` not announced before (by this process
    /// or another), unless the host first saw it longer ago than the
    /// settings' `max_age`; a bottle's burst becomes one message, within the
    /// cap per minute (``AnnouncementSchedule``). Each is also remembered for
    /// its reminder. Returns without waiting for any delivery.
    public func notice(_ proposals: [Proposal]) {
        guard settings.isEnabled else { return }
        let now = now()
        for proposal in proposals where seen.insert(proposal.id).inserted {
            let seenAt = firstSeen.record(proposal.id, of: proposal.bottle, now: now) ?? now
            let current = try? configRoot.current(proposal.tool.configFile, for: proposal.bottle)
            let notification = ProposalNotification(
                proposal: proposal, currentFile: current, consoleURL: settings.consoleURL
            ).seen(at: seenAt, reminder: false)
            if settings.remindAfter > .zero { awaitingReminder[proposal.id] = (notification, seenAt) }
            guard now.timeIntervalSince(seenAt) <= settings.maxAge.seconds else { continue }
            guard claim(proposal.id, of: proposal.bottle, marker: "") else { continue }
            schedule.add(.init(notification: notification, firstSeen: seenAt))
        }
        tick()
    }

    /// Sends what is due now and queues the reminders that are: what the
    /// timer runs every second, and tests with an injected clock call.
    func tick() {
        let now = now()
        if settings.remindAfter > .zero {
            for (id, waiting) in awaitingReminder where now.timeIntervalSince(waiting.firstSeen) >= settings.remindAfter.seconds {
                awaitingReminder[id] = nil
                let bottle = waiting.notification.bottle
                let queue = QueueRoot(queueRoot).queue(for: bottle)
                // Only a proposal still live and undecided is reminded of.
                guard queue.isLive(id), (try? queue.decision(id)) == .some(nil) else { continue }
                guard claim(id, of: bottle, marker: ".reminder") else { continue }
                schedule.add(
                    .init(notification: waiting.notification.seen(at: waiting.firstSeen, reminder: true), firstSeen: waiting.firstSeen))
            }
        }
        for group in schedule.due(at: now) {
            let notification = ProposalNotification.grouped(group.map(\.notification))
            for channel in settings.channels {
                deliveries.append(Task { await self.deliver(notification, on: channel) })
            }
        }
        deliveries.removeAll { $0.isCancelled }
        if schedule.isIdle && awaitingReminder.isEmpty {
            timer?.cancel()
            timer = nil
        } else if timer == nil {
            timer = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await self?.tick()
                }
            }
        }
    }

    /// Takes the shared marker for announcing `id` (`marker` names which
    /// announcement: "" the first, ".reminder" the reminder); `false` when
    /// another watcher took it.
    private func claim(_ id: ProposalID, of bottle: BottleSlug, marker suffix: String) -> Bool {
        switch marker.claim(id, of: bottle, suffix: suffix) {
        case .taken: return false
        case .unavailable(let reason):
            onStatus("notify: cannot record what was announced (\(reason)); another watcher may announce it too", true)
            return true
        case .claimed: return true
        }
    }

    /// Whether an announcement waits for its turn (a bottle's coalescing
    /// window, the cap per minute): what a test checks to know that no
    /// further delivery can start.
    var hasAnnouncementsDue: Bool { !schedule.isIdle }

    /// Waits for every delivery started so far (for `notify` at shutdown, and tests).
    public func drain() async {
        let running = deliveries
        deliveries = []
        for task in running { await task.value }
    }

    /// Stops every delivery still retrying, and the timer.
    public func cancelAll() {
        for task in deliveries { task.cancel() }
        deliveries = []
        timer?.cancel()
        timer = nil
    }

    /// Sends `notification` on `channel`, retrying with backoff; `true` once delivered.
    @discardableResult
    func deliver(_ notification: ProposalNotification, on channel: NotificationChannel) async -> Bool {
        var delay = settings.retryDelay
        for attempt in 1...settings.attempts {
            let failure: NotificationFailure?
            do {
                failure = try await send(notification, on: channel)
            } catch is CancellationError {
                return false
            } catch {
                failure = nil
                if attempt == settings.attempts || Task.isCancelled {
                    report(channel, notification, Self.describe(error), attempts: attempt, final: true)
                    return false
                }
                report(channel, notification, Self.describe(error), attempts: attempt, final: false)
                guard (try? await sleep(delay)) != nil else { return false }
                delay = min(delay * 2, .seconds(60))
                continue
            }
            guard let failure else {
                if attempt > 1 {
                    onStatus("notify: \(channel.name) delivered \(notification.id) after \(attempt) tries", false)
                }
                logger.info(
                    "notification sent", metadata: ["channel": "\(channel.name)", "proposal": "\(notification.id)"])
                return true
            }
            let final = attempt == settings.attempts || !failure.isRetryable
            report(channel, notification, failure.description, attempts: attempt, final: final)
            if final { return false }
            guard (try? await sleep(delay)) != nil else { return false }
            delay = min(delay * 2, .seconds(60))
        }
        return false
    }

    /// One try: `nil` when delivered, the failure otherwise; throws when no answer came.
    private func send(_ notification: ProposalNotification, on channel: NotificationChannel) async throws
        -> NotificationFailure?
    {
        guard let request = channel.request(for: notification) else {
            do {
                try await DesktopNotification.send(notification, timeout: settings.timeout)
                return nil
            } catch let failure as NotificationFailure {
                return failure
            }
        }
        let status = try await transport.post(request, timeout: settings.timeout)
        return (200..<300).contains(status) ? nil : .status(status)
    }

    /// A transport error in words an operator can act on.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? URLError else { return "\(error)" }
        switch error.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "no answer in time"
        case .cannotFindHost, .dnsLookupFailed: return "the host name does not resolve"
        case .networkConnectionLost: return "the connection was closed"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "the TLS connection failed (certificate?)"
        default: return "network error \(error.code.rawValue)"
        }
    }

    private func report(
        _ channel: NotificationChannel, _ notification: ProposalNotification, _ reason: String, attempts: Int,
        final: Bool
    ) {
        let text =
            final
            ? "notify: \(channel.name) failed for \(notification.id) after \(attempts) tr\(attempts == 1 ? "y" : "ies"): \(reason)"
            : "notify: \(channel.name) failing for \(notification.id) (\(reason)); retrying"
        logger.warning("\(text)")
        if final || attempts == 1 { onStatus(Escaped(text).description, true) }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
