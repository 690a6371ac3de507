import Queue

/// Operator decisions carried by a response: a decision leaves the queue
/// (archived) only once the agent received it — the response was written
/// whole to a connection. When the write failed, the decision stays live for
/// the agent's retry, no longer marked as awaited.
struct Delivery: Sendable {
    private enum Carried {
        /// One `tools/call` answered with its decision.
        case call(Proposal, CallHolder)
        /// A batch's array, with the decisions among its members.
        case batch(BatchAnswer, [Proposal])
    }

    private let carried: Carried

    /// The decision on `proposal`, answered to one call.
    static func call(_ proposal: Proposal, holder: CallHolder) -> Self { Self(carried: .call(proposal, holder)) }

    /// The decisions in a batch's answer.
    static func batch(_ batch: BatchAnswer, _ proposals: [Proposal]) -> Self {
        Self(carried: .batch(batch, proposals))
    }

    /// The proposals whose decisions are carried.
    var proposals: [Proposal] {
        switch carried {
        case .call(let proposal, _): [proposal]
        case .batch(_, let proposals): proposals
        }
    }

    /// Archives (when `written`) or releases the carried decisions. Touches
    /// the queue directory: run it in a task, never on the event loop.
    func settle(written: Bool) async {
        switch carried {
        case .call(let proposal, let holder):
            if written { await holder.delivered(proposal) } else { holder.undelivered(proposal) }
        case .batch(let batch, let proposals):
            await batch.settle(proposals, written: written)
        }
    }
}
