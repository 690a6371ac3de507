import Foundation
import Logging
import Queue
import ServiceLifecycle
import SystemPackage

/// What happens to a new proposal with nobody at a console: the standing
/// rules answer what they may (``PolicyRunner``), and the channels of
/// `[notify]` announce what is left to a human — what `notify` did on its
/// own, as one service of `watch`. Each proposal is decided by a rule at most
/// once and announced once however many watchers run (their markers).
public struct NotificationService: Service {
    /// The notifier (`nil`: no channel is configured).
    public let notifier: Notifier?
    /// The standing rules (`nil`: the settings file has none).
    public let rules: PolicyRunner?
    /// The queue root watched.
    public let queueRoot: FilePath
    /// Called after the rules saw each change, before the announcements (the web console's pages re-read).
    public let onChange: (@Sendable () async -> Void)?

    /// Rules, then notifications, for every queue under `queueRoot`.
    public init(
        notifier: Notifier?, rules: PolicyRunner? = nil, queueRoot: FilePath,
        onChange: (@Sendable () async -> Void)? = nil
    ) {
        self.notifier = notifier
        self.rules = rules
        self.queueRoot = queueRoot
        self.onChange = onChange
    }

    /// Watches until the group shuts down, then cancels deliveries still
    /// retrying and waits for the rules' decisions already started.
    public func run() async throws {
        let root = QueueRoot(queueRoot)
        let (notifier, rules, queueRoot, onChange) = (self.notifier, self.rules, self.queueRoot, self.onChange)
        await cancelWhenGracefulShutdown {
            let decided = await rules?.consider() ?? []
            await notifier?.notice(root.pendingProposals().filter { !decided.contains($0.id) })
            for await change in QueueWatch.changes(root: queueRoot) {
                let decided = await rules?.consider(change) ?? []
                await onChange?()
                // Without channels there is nothing to announce: the bottle is not read again for nothing.
                if let notifier {
                    await notifier.notice(
                        root.pendingProposals(of: change.bottle.map { [$0] }).filter { !decided.contains($0.id) })
                }
            }
        }
        await notifier?.cancelAll()
        await rules?.drain()
    }
}
