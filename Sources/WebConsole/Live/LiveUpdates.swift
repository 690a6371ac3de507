import Console
import Queue
import ServiceLifecycle
import SystemPackage

/// The web console's background work as one service of its group: the queue
/// watch that feeds the pages' event streams, the standing rules and the
/// notifier, and the pages' keep-alive comments.
///
/// On graceful shutdown (SIGTERM, SIGINT) it stops watching and ends every
/// page's event stream before the HTTP server quiesces. The order matters: the
/// server's quiesce waits for every response in flight to end, and an event
/// stream never ends on its own — with a page open, `web` kept sending it
/// keep-alives after SIGTERM until a supervisor killed it.
struct LiveUpdates: Service {
    let queueRoot: FilePath
    let broadcast: QueueBroadcast
    let notifier: Notifier?
    let rules: PolicyRunner?
    /// How often an idle page gets a comment, so proxies keep its stream open.
    var keepAliveInterval: Duration = .seconds(15)

    func run() async throws {
        let (queueRoot, broadcast, notifier, rules) = (self.queueRoot, self.broadcast, self.notifier, self.rules)
        let keepAliveInterval = self.keepAliveInterval
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // The rules first: a proposal one of them answers is not announced to a human.
                    let handled = await rules?.consider() ?? []
                    await notifier?.notice(
                        QueueRoot(queueRoot).pendingProposals().filter { !handled.contains($0.id) })
                    for await change in QueueWatch.changes(root: queueRoot) {
                        let handled = await rules?.consider(change) ?? []
                        await broadcast.changed()
                        if let notifier {
                            await notifier.notice(
                                QueueRoot(queueRoot).pendingProposals(of: change.bottle.map { [$0] }).filter {
                                    !handled.contains($0.id)
                                })
                        }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: keepAliveInterval)
                        await broadcast.keepAlive()
                    }
                }
            }
        }
        await broadcast.finishAll()
        await notifier?.cancelAll()
        await rules?.drain()
    }
}
