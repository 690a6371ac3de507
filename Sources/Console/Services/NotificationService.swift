import Foundation
import Logging
import Queue
import ServiceLifecycle
import SystemPackage

/// Announces new proposals on the channels of `[notify]`: what `notify`
/// did on its own, as one service of `watch`. Each proposal is announced
/// once however many watchers run (``NotificationMarker``).
public struct NotificationService: Service {
    /// The notifier.
    public let notifier: Notifier
    /// The queue root watched.
    public let queueRoot: FilePath

    /// Notifications through `notifier` for every queue under `queueRoot`.
    public init(notifier: Notifier, queueRoot: FilePath) {
        self.notifier = notifier
        self.queueRoot = queueRoot
    }

    /// Watches until the group shuts down, then cancels deliveries still retrying.
    public func run() async throws {
        let root = QueueRoot(queueRoot)
        let notifier = self.notifier
        let queueRoot = self.queueRoot
        await cancelWhenGracefulShutdown {
            await notifier.notice(root.pendingProposals())
            for await change in QueueWatch.changes(root: queueRoot) {
                await notifier.notice(root.pendingProposals(of: change.bottle.map { [$0] }))
            }
        }
        await notifier.cancelAll()
    }
}
