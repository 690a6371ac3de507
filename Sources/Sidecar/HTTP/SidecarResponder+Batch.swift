import Queue

/// A JSON-RPC batch: accepted in 2025-03-26 sessions (the one revision with
/// batching), answered with an array once every member is answered — a held
/// `tools/call` in a batch holds the whole answer, without keep-alives
/// (``BatchAnswer``). Other revisions, and an empty batch, get -32600.
extension SidecarResponder {
    func postBatch(_ members: [Result<RPCMessage, RPCFailure>], _ headers: RequestHeaders) -> ResponderAction {
        // The one transport rule that speaks of a batch too: a routing header sent twice (its revision
        // read from the first MCP-Protocol-Version while a proxy reads the other). The mirrored
        // Mcp-Method / Mcp-Name rules are per message (``TransportRules/check(_:_:)``): a batch has none.
        if let repeated = headers.repeated {
            let refusal = TransportRules.headerMismatch("the \(repeated) header was sent more than once; send it once")
            return .respond(.json(refusal.status, RPCReply.error(id: nil, refusal.error)))
        }
        let session: SessionResolution
        switch SessionResolution.resolve(headers, method: "", modern: false, sessions: dispatcher.sessions) {
        case .success(let resolved): session = resolved
        case .failure(let refusal): return .respond(.json(refusal.status, RPCReply.error(id: nil, refusal.error)))
        }
        // A 2026-07-28 batch names its revision in the header or in its members'
        // `_meta` envelopes, not in a session: it is that revision's, which has no batches.
        // An envelope may name a revision we do not speak: the refusal names it as sent.
        let modern =
            headers.protocolVersion.flatMap { ProtocolRevision.modern(named: $0)?.rawValue }
            ?? members.lazy.compactMap { try? $0.get().envelopeRevision }.first
        let named = modern ?? (session.revision ?? .unnamed).rawValue
        guard let revision = ProtocolRevision(rawValue: named), revision.hasBatches, !members.isEmpty else {
            let reason =
                members.isEmpty
                ? "an empty batch has nothing to answer"
                : "batch requests are not supported in protocol revision \(named) "
                    + "(only \(ProtocolRevision.batching.rawValue)): send one JSON-RPC request object per message"
            return .respond(.json(.badRequest, RPCReply.error(id: nil, .invalidRequest(reason))))
        }
        let batch = BatchAnswer(
            dispatcher: dispatcher, admissions: admissions, session: session.id, revision: revision)
        return .deferred(
            DeferredWork(batch: batch) { () -> ResponderAction in
                guard let (bytes, delivered) = await batch.answer(members) else { return .respond(.empty(.accepted)) }
                return .deliver(.json(.ok, bytes), .batch(batch, delivered))
            })
    }
}
