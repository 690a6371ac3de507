import Console
import ServiceLifecycle
import SystemPackage

/// The web console's background work as one service of its group: what
/// `watch` does with queue changes (``NotificationService``: the standing
/// rules, then the notifier), each change also told to every open page, and
/// the pages' keep-alive comments.
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
    /// The fleet's page (`web --database`): changes come from the database's
    /// NOTIFY, and this host's queue is neither watched nor decided by rules here.
    var fleet: FleetLiveFeed? = nil
    /// How often an idle page gets a comment, so proxies keep its stream open.
    var keepAliveInterval: Duration = .seconds(15)

    func run() async throws {
        let broadcast = self.broadcast
        let keepAliveInterval = self.keepAliveInterval
        let watching = NotificationService(notifier: notifier, rules: rules, queueRoot: queueRoot) {
            await broadcast.changed()
        }
        await withDiscardingTaskGroup { group in
            // Until graceful shutdown, then deliveries cancelled and the rules' decisions in progress awaited.
            if let fleet {
                group.addTask { await cancelWhenGracefulShutdown { await fleet.forward(to: broadcast) } }
            } else {
                group.addTask { try? await watching.run() }
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: keepAliveInterval)
                        if Task.isCancelled { return }
                        await broadcast.keepAlive()
                    }
                }
            }
        }
        await broadcast.finishAll()
    }
}
