/// What ``SidecarResponder`` decided a request needs, for the channel
/// handler (``SidecarConnection``) to perform.
///
/// A value rather than a callback into the channel, so every route and
/// refusal is tested by comparing values, without a channel or an event
/// loop; and so the handler stays a short list of I/O operations.
enum ResponderAction: Sendable {
    /// Send this response.
    case respond(SidecarResponse)
    /// Send this response, which carries operator decisions; once the write
    /// completed (or failed) `delivery` archives them (or leaves them live
    /// for the agent's retry).
    case deliver(SidecarResponse, Delivery)
    /// Hold the call for the operator: an event stream with keep-alives, or
    /// nothing until the answer. ``HeldRequest`` says what to send meanwhile
    /// and at the end.
    case hold(HeldRequest)
    /// Work that reads or writes the queue, so it must not run on the event
    /// loop; its result is the action to perform.
    case deferred(DeferredWork)
}

/// Work a request needs off the event loop (a tool call's admission, a
/// batch, the metrics exposition): the connection runs it in a task and
/// performs the action it returns, back on its event loop.
struct DeferredWork: Sendable {
    /// The gate tool calls are admitted through (at most so many at once),
    /// or `nil` for work that runs at once.
    var gate: AdmissionGate?
    /// A batch being answered: ended as a disconnect if the connection
    /// closes before its answer is written.
    var batch: BatchAnswer?
    var run: @Sendable () async -> ResponderAction
}
