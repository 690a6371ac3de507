import FoundationEssentials
import Queue

/// A proposal seen as an MCP task: the protocol's own answer to "a person
/// must respond", for clients that declare it.
///
/// Two flavours are spoken: the experimental core tasks of 2025-11-25
/// (`params.task` on `tools/call`, `CreateTaskResult` as `{task}`,
/// `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`) and the
/// 2026-07-28 extension `io.modelcontextprotocol/tasks` (`resultType:
/// "task"`, a flat task, the result inlined into `tasks/get`, `tasks/update`,
/// `tasks/cancel`).
///
/// The task id *is* the proposal id and every field is derived from the
/// queue files, so the sidecar keeps no task state of its own: a task
/// survives a sidecar restart, and the operator's console needs no notion
/// of tasks. A task is `working` until the decision is final, then
/// `completed` (its result is the tool result the held call would have had);
/// a proposal withdrawn by `tasks/cancel` is `cancelled`. The 2025-11-25
/// flavour reports rejected and expired proposals as `failed` (their tool
/// result has `isError`); the 2026-07-28 extension forbids that
/// (`failed` is for JSON-RPC errors only) and reports them `completed`.
public enum ProposalTask {
    /// Which task protocol a request speaks.
    public enum Flavor: Sendable {
        /// 2025-11-25 experimental core tasks.
        case core
        /// 2026-07-28 extension `io.modelcontextprotocol/tasks`.
        case extensionTasks
    }

    /// The extension's identifier, declared in `server/discover` and by clients in `_meta`.
    public static let extensionID = "io.modelcontextprotocol/tasks"
    /// The `_meta` key naming the task a `tasks/result` answer belongs to (2025-11-25).
    public static let relatedTaskMetaKey = "io.modelcontextprotocol/related-task"
    /// How often a client should poll: a human decides in minutes, not milliseconds.
    public static let pollIntervalMs = 5000

    /// The 2025-11-25 server capability.
    public static let coreCapability: JSONValue = .object([
        "list": .object([:]), "cancel": .object([:]),
        "requests": .object(["tools": .object(["call": .object([:])])]),
    ])

    /// Whether a 2026-07-28 request declares the tasks extension in its per-request capabilities.
    public static func declaresExtension(_ message: RPCMessage) -> Bool {
        guard let extensions = message.meta?["io.modelcontextprotocol/clientCapabilities"]?["extensions"],
            extensions.isObject
        else { return false }
        return extensions[extensionID] != nil
    }

    /// The task's status for `decision` (`nil`: undecided).
    static func status(of decision: Decision?, flavor: Flavor) -> String {
        guard let decision, decision.isFinal else { return "working" }
        switch decision.status {
        case .approved, .modified: return "completed"
        case .withdrawn: return "cancelled"
        case .rejected, .expired: return flavor == .core ? "failed" : "completed"
        }
    }

    /// The task object of `proposal`; with `inlineResult`, a terminal
    /// extension task carries its tool result (as `tasks/get` must).
    static func task(_ proposal: Proposal, _ decision: Decision?, flavor: Flavor, inlineResult: Bool = false)
        -> JSONValue
    {
        let status = status(of: decision, flavor: flavor)
        var task: JSONValue = [
            "taskId": .string(proposal.id.rawValue),
            "status": .string(status),
            "statusMessage": .string(statusMessage(proposal, decision)),
            "createdAt": .string(Timestamp.format(proposal.createdAt)),
            "lastUpdatedAt": .string(Timestamp.format(decision?.decidedAt ?? proposal.createdAt)),
        ]
        switch flavor {
        case .core:
            task["ttl"] = .null
            task["pollInterval"] = .integer(pollIntervalMs)
        case .extensionTasks:
            task["ttlMs"] = .null
            task["pollIntervalMs"] = .integer(pollIntervalMs)
            if inlineResult, status == "completed", let decision {
                task["result"] = ToolAnswer.result(for: decision, of: proposal)
            }
        }
        return task
    }

    private static func statusMessage(_ proposal: Proposal, _ decision: Decision?) -> String {
        guard let decision else { return "waiting for the operator's decision on proposal \(proposal.id)" }
        if !decision.isFinal { return "approved; the operator's console is applying it" }
        switch decision.status {
        case .withdrawn: return "cancelled: the proposal was withdrawn"
        default: return "decided: \(decision.status.rawValue)"
        }
    }
}
