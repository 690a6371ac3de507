import Queue
import Synchronization

/// The answer to one JSON-RPC batch of a 2025-03-26 session (the one
/// revision that has batches): every member dispatched as if sent alone,
/// concurrently, and the responses gathered in order into one array.
///
/// A held `tools/call` in a batch holds the whole answer (a batch is one
/// HTTP response, so its first answer cannot leave before its last); no
/// keep-alives, since the response is plain JSON. A dropped connection ends
/// the batch's held calls as a disconnect — their proposals stay for a retry.
final class BatchAnswer: Sendable {
    private let dispatcher: Dispatcher
    private let admissions: AdmissionGate
    private let session: String
    private let revision: ProtocolRevision
    private let held = Mutex<(calls: [HeldCall], dropped: Bool)>(([], false))

    /// A batch whose `tools/call` members are admitted through `admissions`,
    /// one slot each and only while being admitted: a batch held for hours
    /// must not keep a slot that other agents' calls need.
    init(dispatcher: Dispatcher, admissions: AdmissionGate, session: String, revision: ProtocolRevision) {
        self.dispatcher = dispatcher
        self.admissions = admissions
        self.session = session
        self.revision = revision
    }

    /// The response array and the proposals whose decisions it carries;
    /// `nil` when every member was a notification (HTTP 202).
    func answer(_ members: [Result<RPCMessage, RPCFailure>]) async -> ([UInt8], [Proposal])? {
        let answers = await withTaskGroup(of: (Int, [UInt8]?, Proposal?).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask {
                    let (bytes, proposal) = await self.answer(member)
                    return (index, bytes, proposal)
                }
            }
            var answers: [(Int, [UInt8]?, Proposal?)] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.0 < $1.0 }
        }
        let responses = answers.compactMap(\.1)
        guard !responses.isEmpty else { return nil }
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, response) in responses.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += response
        }
        bytes.append(UInt8(ascii: "]"))
        return (bytes, answers.compactMap(\.2))
    }

    private func answer(_ member: Result<RPCMessage, RPCFailure>) async -> ([UInt8]?, Proposal?) {
        let message: RPCMessage
        switch member {
        case .failure(let failure): return (RPCReply.error(id: failure.id, failure.error), nil)
        case .success(let decoded): message = decoded
        }
        if message.method == "initialize" || message.envelopeRevision != nil {
            let reason =
                message.method == "initialize"
                ? "initialize must not be part of a batch: send it alone"
                : "2026-07-28 requests cannot be batched: send each on its own"
            return (RPCReply.error(id: message.id, .invalidRequest(reason)), nil)
        }
        switch dispatcher.handle(message, session: session, sessionRevision: revision, startsSessions: false) {
        case .accepted: return (nil, nil)
        case .response(let bytes, _), .refused(let bytes, _): return (bytes, nil)
        case .toolCall(let call):
            let dispatcher = self.dispatcher
            let admission = await withCheckedContinuation { continuation in
                admissions.run { continuation.resume(returning: await dispatcher.admit(call)) }
            }
            switch admission {
            case .response(let bytes): return (bytes, nil)
            // Answered at once from the queue: delivered (archived) once the array is written.
            case .delivery(let bytes, let proposal): return (bytes, proposal)
            case .held(let call, let context):
                let dropped = held.withLock { held in
                    held.calls.append(call)
                    return held.dropped
                }
                if dropped { call.interrupt(.disconnected) }
                let outcome = await dispatcher.holder.wait(call)
                if case .decided(_, let proposal) = outcome {
                    return (dispatcher.answer(outcome, to: context), proposal)
                }
                return (dispatcher.answer(outcome, to: context), nil)
            }
        }
    }

    /// The connection went away: the held members stop waiting; their proposals stay.
    func dropped() {
        let calls = held.withLock { held in
            held.dropped = true
            return held.calls
        }
        for call in calls { call.interrupt(.disconnected) }
    }

    /// After the answer was written (or not): archive the decisions the agent
    /// received; otherwise they stay for its retry, no longer marked as awaited.
    func settle(_ proposals: [Proposal], written: Bool) async {
        for proposal in proposals {
            if written {
                await dispatcher.holder.delivered(proposal)
            } else {
                try? dispatcher.holder.queue.setWaiting(proposal.id, false)
            }
        }
    }
}
