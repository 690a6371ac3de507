import Queue

/// `POST /mcp`: one JSON-RPC message, checked against the transport rules
/// and its session, then dispatched.
///
/// Everything that needs no file is answered right here — `tools/list`,
/// `initialize`, `ping`, `server/discover` — on the event loop that read the
/// request: that is most requests, and a hop to a task and back would cost
/// more than the answer. A `tools/call` reads and writes the queue, so its
/// admission is deferred work, through the admission gate.
extension SidecarResponder {
    func post(_ request: SidecarRequest) -> ResponderAction {
        let started = ContinuousClock.now
        let headers = request.headers
        let message: RPCMessage
        let decoded = request.body.withUnsafeReadableBytes {
            RPCBody.decode($0.assumingMemoryBound(to: UInt8.self))
        }
        switch decoded {
        case .success(.single(let decoded)): message = decoded
        case .success(.batch(let members)): return postBatch(members, headers)
        case .failure(let failure):
            return .respond(.json(.badRequest, RPCReply.error(id: failure.id, failure.error)))
        }
        if let refusal = TransportRules.check(headers, message) {
            return .respond(.json(refusal.status, RPCReply.error(id: message.id, refusal.error)))
        }
        logger.debug(
            "json-rpc",
            metadata: ["method": "\(Escaped(message.method))", "id": "\(message.id.map { "\($0)" } ?? "-")"])
        let modern = message.envelopeRevision != nil
        let session: SessionResolution
        switch SessionResolution.resolve(headers, method: message.method, modern: modern, sessions: dispatcher.sessions)
        {
        case .success(let resolved): session = resolved
        case .failure(let refusal):
            return .respond(.json(refusal.status, RPCReply.error(id: message.id, refusal.error)))
        }

        let dispatcher = self.dispatcher
        let metrics = dispatcher.holder.metrics
        switch dispatcher.handle(message, session: session.id, sessionRevision: session.revision, startsSessions: true)
        {
        case .accepted:
            metrics.request(message.method, took: ContinuousClock.now - started)
            return .respond(.empty(.accepted))
        case .response(let bytes, let newSession):
            metrics.request(message.method, took: ContinuousClock.now - started)
            return .respond(.json(.ok, bytes, headers: newSession.map { [(SidecarHTTPServer.sessionHeader, $0)] } ?? []))
        case .refused(let bytes, let error):
            metrics.request(message.method, took: ContinuousClock.now - started)
            return .respond(.json(modern ? SessionResolution.modernStatus(of: error) : .ok, bytes))
        case .toolCall(let call):
            let (method, streaming) = (message.method, headers.acceptsEventStream)
            return .deferred(
                DeferredWork(gate: admissions) { () -> ResponderAction in
                    switch await dispatcher.admit(call) {
                    case .response(let bytes):
                        metrics.request(method, took: ContinuousClock.now - started)
                        return .respond(.json(.ok, bytes))
                    case .delivery(let bytes, let proposal):
                        metrics.request(method, took: ContinuousClock.now - started)
                        return .deliver(.json(.ok, bytes), .call(proposal, holder: dispatcher.holder))
                    case .held(let held, let context):
                        return .hold(
                            HeldRequest(
                                call: held, context: context, started: started, streaming: streaming,
                                dispatcher: dispatcher))
                    }
                })
        }
    }
}
