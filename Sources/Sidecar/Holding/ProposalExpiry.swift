import FoundationEssentials
import Logging
import Queue
import ServiceLifecycle

/// Decides `expired` (by `sidecar`) for proposals whose `--expire-after`
/// deadline passed undecided — or the later deadline an operator set from
/// the web console (``BottleQueue/deadline(of:)``, at most a day later).
///
/// Fail closed: a deadline never reads as consent, so a held call gets an
/// `isError` answer and the operator can no longer approve the stale request.
/// Runs only when a deadline is configured; it scans the pending proposals
/// once per interval, so a proposal the operator decides first keeps the
/// operator's decision (the queue's exactly-one rule).
public struct ProposalExpiry: Service {
    /// The bottle's queue.
    public let queue: BottleQueue
    /// How often the pending proposals are checked.
    public let interval: Duration
    private let logger: Logger

    /// An expiry sweep over `queue`, every `interval`.
    public init(queue: BottleQueue, interval: Duration = .seconds(1), logger: Logger) {
        self.queue = queue
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps until the service group shuts down.
    public func run() async throws {
        let interval = self.interval
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            sweep()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Decides `expired` for every pending proposal whose deadline is at or
    /// before `now`; returns the ids it expired.
    @discardableResult
    public func sweep(now: Date = Date()) -> [ProposalID] {
        guard let pending = try? queue.pending() else { return [] }
        var expired: [ProposalID] = []
        // An operator's extension (`<id>.extended`, bounded) moves the deadline.
        for proposal in pending where proposal.isExpired(at: now) && queue.isExpired(proposal, at: now) {
            let decision = Decision(
                id: proposal.id, status: .expired, notes: "nobody decided before the proposal's deadline",
                decidedBy: "sidecar")
            do {
                try queue.decide(decision)
                expired.append(proposal.id)
                logger.info("expired proposal", metadata: ["proposal": "\(proposal.id)"])
            } catch .alreadyDecided {
                continue
            } catch {
                logger.error(
                    "could not expire proposal", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
            }
        }
        return expired
    }
}
