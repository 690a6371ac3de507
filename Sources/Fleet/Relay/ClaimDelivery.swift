import Apply
import Foundation
import Logging
import Queue

/// Applies a decision claimed in the database on the host that owns the
/// bottle, through the same ``Applier`` as `approve` and `reject`, bound to
/// the digest the deciding operator saw; and says what the host's word on
/// the claim is (``FleetDelivery``).
struct ClaimDelivery: Sendable {
    let host: FleetHostName
    let root: QueueRoot
    let applier: Applier
    let logger: Logger

    /// Delivers `claim` into the host's queue.
    /// - Returns: the host's word on it: delivered (with the apply's outcome), superseded by the
    ///   queue's own decision, or refused (why).
    /// - Throws: when the queue cannot be read or written (a full disk): the claim stays
    ///   awaiting, and the next look tries again.
    func deliver(_ claim: FleetDecisionRow) async throws -> FleetDelivery {
        let queue = root.queue(for: claim.bottle)
        switch try verdict(on: claim, in: queue) {
        case .delivered(let local): return .delivered(local.apply)
        case .superseded(let local): return .superseded(by: local)
        case .refused(let reason): return .refused(reason: reason)
        case .apply(let entry):
            do {
                if claim.status.isApproval {
                    let decided = try await applier.apply(decision: claim.decision, proposal: entry.proposal, queue: queue)
                    return .delivered(decided.apply)
                }
                try applier.record(claim.decision, of: entry.proposal, queue: queue)
                return .delivered(nil)
            } catch QueueError.alreadyDecided {
                // Another decision won in the queue meanwhile (an operator on this host, or a second
                // relay applying the same claim): the queue's decision is the answer.
                switch try verdict(on: claim, in: queue) {
                case .delivered(let local): return .delivered(local.apply)
                case .superseded(let local): return .superseded(by: local)
                case .refused(let reason): return .refused(reason: reason)
                case .apply: throw QueueError.alreadyDecided(claim.id, status: claim.status)
                }
            } catch let error as ApplyError {
                // Nothing was written: the proposal stays pending on this host, decidable here.
                return .refused(reason: "host \(host) did not apply it: \(error.description)")
            }
        }
    }

    /// What to do with `claim`, with the entry it is about when it is to be applied.
    private enum Verdict {
        case apply(QueueEntry)
        case delivered(Decision)
        case superseded(Decision)
        case refused(String)
    }

    private func verdict(on claim: FleetDecisionRow, in queue: BottleQueue) throws(QueueError) -> Verdict {
        let entry: QueueEntry?
        do throws(QueueError) {
            entry = try queue.entry(claim.id)
        } catch {
            guard case .noSuchProposal = error else { throw error }
            entry = nil
        }
        switch ClaimVerdict.of(
            status: claim.status, decidedBy: claim.decidedBy, proposalSHA256: claim.proposalSHA256, entry: entry,
            host: host.rawValue)
        {
        case .apply: return entry.map(Verdict.apply) ?? .refused("the proposal is gone")
        case .delivered(let local): return .delivered(local)
        case .superseded(let local): return .superseded(local)
        case .refused(let reason): return .refused(reason)
        }
    }
}
