import Apply
import Foundation
import Logging
import ServiceLifecycle

/// Ends time-boxed grants at their deadline: every `interval` (1 s) it
/// reads the ledger and ends the overdue grants through the apply path
/// (``Applier/endOverdueGrants(now:by:)``), so a grant ends within the
/// interval plus its reload of its deadline — well inside the 5 s promised.
public struct GrantExpiryService: Service {
    /// The applier whose ledger and bottles are watched.
    public let applier: Applier
    /// How often the ledger is read.
    public let interval: Duration
    /// Who the audit log names as ending the grants.
    public let actor: String
    private let logger: Logger

    /// Expiry over `applier`'s ledger, checked every `interval`.
    public init(applier: Applier, interval: Duration = .seconds(1), actor: String, logger: Logger) {
        self.applier = applier
        self.interval = interval
        self.actor = actor
        self.logger = logger
    }

    /// Checks until the group shuts down.
    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await pass()
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }

    /// One check: ends what is overdue now, logging each end.
    public func pass(now: Date = Date()) async {
        do {
            for end in try await applier.endOverdueGrants(now: now, by: actor) {
                let metadata: Logger.Metadata = [
                    "grant": "\(end.grant.id)", "bottle": "\(end.grant.bottle)", "outcome": "\(end.outcome.summary)",
                ]
                if end.outcome.state == .applied {
                    logger.info("grant ended", metadata: metadata)
                } else {
                    logger.error("grant could not be ended; retrying", metadata: metadata)
                }
            }
        } catch {
            logger.error("could not end overdue grants", metadata: ["error": "\(error)"])
        }
    }
}

/// Finishes applies a crash cut off (``Applier/recoverInterruptedOutcomes(queueRoot:decisionsIn:)``),
/// every `interval` (5 s), so an agent whose apply was interrupted is answered
/// without waiting for the next operator command.
public struct InterruptedApplyService: Service {
    /// The applier.
    public let applier: Applier
    /// How often the queues are looked at.
    public let interval: Duration
    private let logger: Logger

    /// A recovery loop over `applier`'s queue root.
    public init(applier: Applier, interval: Duration = .seconds(5), logger: Logger) {
        self.applier = applier
        self.interval = interval
        self.logger = logger
    }

    /// Looks until the group shuts down.
    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                for (id, outcome) in try applier.recoverInterruptedOutcomes(queueRoot: applier.queueRootPath) {
                    logger.warning(
                        "finished an interrupted apply", metadata: ["proposal": "\(id)", "outcome": "\(outcome.summary)"])
                }
            } catch {
                logger.error("could not finish interrupted applies", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}
