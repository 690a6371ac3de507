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
        self.marker = NotificationMarker(queueRoot: queueRoot.string)
        self.configRoot = ConfigRoot(configRoot)
        self.transport = transport
        self.sleep = sleep
        self.now = now
        self.logger = logger
        self.onStatus = onStatus
        marker.prune()
    }

    /// Announces each of `proposals` not announced before (by this process
    /// or another), unless it is older than the settings' `max_age`.
    /// Returns without waiting for any delivery.
    public func notice(_ proposals: [Proposal]) {
        guard settings.isEnabled else { return }
        for proposal in proposals where seen.insert(proposal.id).inserted {
            guard now().timeIntervalSince(proposal.createdAt) <= settings.maxAge.seconds else { continue }
            switch marker.claim(proposal.id, of: proposal.bottle) {
            case .taken: continue
            case .unavailable(let reason):
                onStatus("notify: cannot record what was announced (\(reason)); another watcher may announce it too", true)
            case .claimed: break
            }
            let current = try? configRoot.current(proposal.tool.configFile, for: proposal.bottle)
            let notification = ProposalNotification(proposal: proposal, currentFile: current, consoleURL: settings.consoleURL)
            for channel in settings.channels {
                deliveries.append(Task { await self.deliver(notification, on: channel) })
            }
        }
        deliveries.removeAll { $0.isCancelled }
    }

    /// Waits for every delivery started so far (for `notify` at shutdown, and tests).
    public func drain() async {
        let running = deliveries
        deliveries = []
        for task in running { await task.value }
    }

    /// Stops every delivery still retrying.
    public func cancelAll() {
        for task in deliveries { task.cancel() }
        deliveries = []
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
