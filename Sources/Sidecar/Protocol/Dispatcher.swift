import FoundationEssentials
import Queue

/// The MCP method table, shared by the HTTP and stdio transports.
///
/// Written here rather than taken from the MCP Swift SDK's `Server`: the SDK
/// negotiates up to 2025-11-25 only (no `server/discover`, no per-request
/// `_meta` envelope), and its tool handlers return a result at once, where a
/// held call must stream keep-alives for hours and outlive its
/// cancellation. The tools are described by ``ToolCatalog``, messages are ``JSONValue``s.
public struct Dispatcher: Sendable {
    /// What the transport should do with a message.
    public enum Reply: Sendable {
        /// Nothing to send (a notification): HTTP answers 202.
        case accepted
        /// A complete response; `session` is set when `initialize` started one.
        case response([UInt8], session: String?)
        /// An error response; the HTTP transport picks its status from the
        /// code (a 2026-07-28 -32601 is HTTP 404), stdio sends it like any other.
        case refused([UInt8], RPCError)
        /// A `tools/call`: it reads and writes the queue, so the transport
        /// runs ``admit(_:)`` off its event loop.
        case toolCall(ToolCall)
    }

    /// A `tools/call` that passed the envelope checks, to be admitted.
    public struct ToolCall: Sendable {
        /// The request.
        public var message: RPCMessage
        /// Where it came from.
        public var context: Context
    }

    /// What admitting a `tools/call` gives.
    public enum Admission: Sendable {
        /// A complete response: a validation error, a task, a status.
        case response([UInt8])
        /// A decision answered at once (a retry, `proposal-status`,
        /// `tasks/result`): the transport writes it, then calls
        /// ``CallHolder/delivered(_:)`` once the write completed (or
        /// ``CallHolder/undelivered(_:)`` when it failed), so a decision
        /// lost on a dead connection stays live for the next ask.
        case delivery([UInt8], Proposal)
        /// A held call: the transport waits with ``CallHolder/wait(_:)``,
        /// sending keep-alives meanwhile, then answers with ``answer(_:to:)``
        /// and, once the answer is out, ``CallHolder/delivered(_:)``.
        case held(HeldCall, Context)
    }

    /// Where a message came from, as far as the answer depends on it.
    public struct Context: Sendable {
        /// The request id.
        public var id: RequestID?
        /// The revision the answer is written for.
        public var revision: ProtocolRevision
        /// The session (`""` without one).
        public var session: String
        /// The progress token for keep-alive notifications, when the client sent one.
        public var progressToken: JSONValue?

        /// The task protocol a `tools/call` asked to be answered in, if any.
        public var taskFlavor: ProposalTask.Flavor? = nil
        /// The task a `tasks/result` answer belongs to (named in its `_meta`).
        public var relatedTask: String? = nil

        /// Whether the revision is the stateless 2026-07-28 one.
        public var isModern: Bool { revision.isModern }
    }

    /// Holds tool calls.
    public let holder: CallHolder
    /// HTTP sessions (unused over stdio).
    public let sessions: SessionRegistry
    private let toolsList = ToolsListResponses()

    /// The server's name and version, as `initialize` and `server/discover` report them.
    public static let serverInfo: JSONValue = .object(["name": "bottle-supervise", "version": .string(ProductVersion.current)])

    /// A dispatcher over `holder`.
    public init(holder: CallHolder, sessions: SessionRegistry = SessionRegistry()) {
        self.holder = holder
        self.sessions = sessions
    }

    /// Handles one message.
    /// - Parameters:
    ///   - session: the session the message belongs to (`""` when none).
    ///   - sessionRevision: the revision negotiated for that session, when known.
    ///   - startsSessions: whether `initialize` hands out a session id (HTTP).
    public func handle(
        _ message: RPCMessage, session: String, sessionRevision: ProtocolRevision?, startsSessions: Bool
    ) -> Reply {
        if let requested = message.envelopeRevision {
            guard let revision = ProtocolRevision.modern(named: requested) else {
                return error(.unsupportedRevision(requested), for: message)
            }
            return handleModern(message, revision: revision)
        }
        let revision = sessionRevision ?? .unnamed
        var context = Context(
            id: message.id, revision: revision, session: session, progressToken: message.progressToken)
        if revision >= .v2025_11_25, case .object? = message.params["task"] { context.taskFlavor = .core }
        switch message.method {
        case "initialize":
            let requested = message.params["protocolVersion"]?.stringValue
            let negotiated = ProtocolRevision.negotiate(requested)
            var capabilities: JSONValue = ["tools": .object(["listChanged": false])]
            if negotiated >= .v2025_11_25 { capabilities["tasks"] = ProposalTask.coreCapability }
            let result: JSONValue = .object([
                "protocolVersion": .string(negotiated.rawValue),
                "capabilities": capabilities,
                "serverInfo": Self.serverInfo,
                "instructions": .string(Self.instructions),
            ])
            let newSession = startsSessions ? sessions.start(revision: negotiated) : nil
            return .response(RPCReply.result(id: message.id, result), session: newSession)
        case "ping":
            return message.isNotification
                ? .accepted : .response(RPCReply.result(id: message.id, .object([:])), session: nil)
        case "tools/list":
            return .response(RPCReply.result(id: message.id, json: toolsList.result(for: revision)), session: nil)
        case "tools/call", "tasks/get", "tasks/result", "tasks/list", "tasks/cancel":
            return call(message, context: context)
        case "server/discover":
            return .response(RPCReply.result(id: message.id, discoverResult), session: nil)
        case "notifications/cancelled":
            if let id = Self.requestID(message.params["requestId"]) {
                holder.cancel(CallKey(session: session, id: id))
            }
            return .accepted
        default:
            if message.isNotification { return .accepted }
            return error(.methodNotFound(message.method), for: message)
        }
    }

    private func handleModern(_ message: RPCMessage, revision: ProtocolRevision) -> Reply {
        var context = Context(id: message.id, revision: revision, session: "", progressToken: message.progressToken)
        let declaresTasks = ProposalTask.declaresExtension(message)
        if declaresTasks { context.taskFlavor = .extensionTasks }
        switch message.method {
        case "server/discover":
            return .response(RPCReply.result(id: message.id, discoverResult), session: nil)
        case "tools/list":
            return .response(RPCReply.result(id: message.id, json: toolsList.result(for: revision)), session: nil)
        case "tools/call":
            return call(message, context: context)
        case "tasks/get", "tasks/update", "tasks/cancel":
            return declaresTasks ? call(message, context: context) : error(.missingTasksCapability, for: message)
        case "notifications/cancelled":
            // At 2026-07-28 a client cancels by closing the response stream (the
            // transport tells the held call). A posted cancellation names only a
            // request id, and without sessions any client could name another's:
            // acknowledged and dropped, as the revision's HTTP transport allows.
            return .accepted
        case "initialize":
            return error(
                .invalidRequest("2026-07-28 has no initialize handshake: send requests with the _meta envelope"),
                for: message)
        default:
            if message.isNotification { return .accepted }
            return error(.methodNotFound(message.method), for: message)
        }
    }

    private func call(_ message: RPCMessage, context: Context) -> Reply {
        guard message.id != nil else { return .accepted }
        return .toolCall(ToolCall(message: message, context: context))
    }

    /// Validates and queues a `tools/call` (or re-attaches it to its pending proposal).
    public func admit(_ call: ToolCall) async -> Admission {
        if call.message.method != "tools/call" { return await task(call) }
        if let flavor = call.context.taskFlavor { return await callAsTask(call, flavor: flavor) }
        let key = CallKey(session: call.context.session, id: call.message.id ?? .number(0))
        do {
            switch try await holder.admit(call.message.params, key: key) {
            case .answered(let result, let proposal):
                return .delivery(answer(result, context: call.context), proposal)
            case .held(let held):
                return .held(held, call.context)
            case .invalid(let message):
                return .response(invalidInput(message, context: call.context))
            }
        } catch {
            return .response(RPCReply.error(id: call.message.id, error))
        }
    }

    /// The response bytes for a held call's outcome.
    public func answer(_ outcome: CallHolder.Outcome, to context: Context) -> [UInt8] {
        switch outcome {
        case .decided(let result, _), .pending(let result, _): answer(result, context: context)
        case .cancelled(let proposal):
            RPCReply.error(
                id: context.id,
                RPCError(
                    code: -32800,
                    message:
                        "request cancelled; proposal \(proposal.id) stays with the operator: call "
                        + "\(ProposalStatusTool.name) with proposal_id \"\(proposal.id)\" for the decision"))
        case .disconnected, .restarting: RPCReply.error(id: context.id, .restarting)
        case .failed(let error): RPCReply.error(id: context.id, error)
        }
    }

    func answer(_ result: JSONValue, context: Context) -> [UInt8] {
        guard result.isObject else { return RPCReply.result(id: context.id, result) }
        var object = result
        if context.revision < .v2025_06_18 { object["structuredContent"] = nil }
        if let task = context.relatedTask {
            var meta = object["_meta"].flatMap { $0.isObject ? $0 : nil } ?? [:]
            meta[ProposalTask.relatedTaskMetaKey] = .object(["taskId": .string(task)])
            object["_meta"] = meta
        }
        if context.isModern {
            object["resultType"] = "complete"
            object["_meta"] = Self.modernMeta(object["_meta"])
        }
        return RPCReply.result(id: context.id, object)
    }

    /// A 2026-07-28 result's `_meta`: whatever it carries, plus the server's name and version.
    static func modernMeta(_ meta: JSONValue?) -> JSONValue {
        var object = meta.flatMap { $0.isObject ? $0 : nil } ?? [:]
        object[ProtocolRevision.serverInfoMetaKey] = serverInfo
        return object
    }

    /// Tool input the model can correct: from 2025-11-25 on a tool result
    /// with `isError` (so the model sees the message), before that -32602.
    private func invalidInput(_ message: String, context: Context) -> [UInt8] {
        guard context.revision >= .v2025_11_25 else { return RPCReply.error(id: context.id, .invalidParams(message)) }
        return answer(ToolAnswer.invalidInput(message), context: context)
    }

    private var discoverResult: JSONValue {
        .object([
            "supportedVersions": .array(ProtocolRevision.allNames.map { .string($0) }),
            "capabilities": .object([
                "tools": .object(["listChanged": false]),
                "extensions": .object([ProposalTask.extensionID: .object([:])]),
            ]),
            "instructions": .string(Self.instructions),
            "resultType": "complete",
            "ttlMs": 0,
            "cacheScope": "private",
            "_meta": .object([ProtocolRevision.serverInfoMetaKey: Self.serverInfo]),
        ])
    }

    private func error(_ error: RPCError, for message: RPCMessage) -> Reply {
        message.isNotification ? .accepted : .refused(RPCReply.error(id: message.id, error), error)
    }

    private static func requestID(_ value: JSONValue?) -> RequestID? {
        switch value {
        case .string(let s)?: .string(s)
        case let other?: other.integerValue.map(RequestID.number)
        case nil: nil
        }
    }

    /// What the server tells the model about itself.
    public static let instructions =
        "Ask the bottle's operator for a config change when the sandbox blocks you: a cred-proxy route "
        + "(cred-proxy-block), an egress host (pipelock-block) or a Dockerfile change (capability-block). Send the "
        + "full proposed file and a justification; the call is held until a human decides."
}
