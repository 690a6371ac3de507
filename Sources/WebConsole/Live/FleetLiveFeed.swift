import Fleet
import Foundation
import Logging

/// The fleet's changes for every open page: one LISTEN on
/// ``FleetSchema/changeChannel`` (a proposal or decision row written by any
/// host's relay or any operator), fanned out through the same
/// ``QueueBroadcast`` a host's page uses, so the page's script refetches the list.
///
/// The connection can drop (the database restarts): then it is opened again
/// after 1 s, doubling to 30 s, and every page refetches once it is back, since
/// notifications sent meanwhile are lost.
struct FleetLiveFeed: Sendable {
    let store: FleetStore
    let logger: Logger

    func forward(to broadcast: QueueBroadcast) async {
        var delay = Duration.seconds(1)
        var reported = false
        while !Task.isCancelled {
            do {
                let changes = try await store.changes(channel: FleetSchema.changeChannel)
                if reported {
                    logger.warning("the fleet database is back; the page is live again")
                    reported = false
                }
                await broadcast.changed()
                delay = .seconds(1)
                for try await _ in changes { await broadcast.changed() }
            } catch {
                if Task.isCancelled { return }
                if !reported {
                    logger.warning("the fleet database's changes cannot be followed; retrying", metadata: ["error": "\(error)"])
                    reported = true
                }
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }
}
