import FoundationEssentials
import Queue

/// The four tools the agent sees: the seed's three that propose a file (one
/// per `Queue.Tool` case, with the seed's names, argument names and input
/// schemas, plus annotations and an output schema), then `proposal-status`
/// (``ProposalStatusTool``).
///
/// The descriptions claim only what the product does: the operator's console
/// writes the approved file into the bottle's config and reloads it, and the
/// answer says whether that happened.
public enum ToolCatalog {
    /// Where the bottle sees its current config (read-only mount).
    public static let currentConfigDirectory = "/etc/claude-bottle/current-config"

    /// The MCP declaration of `tool`.
    public static func declaration(of tool: Queue.Tool) -> ToolDeclaration {
        ToolDeclaration(
            name: tool.rawValue,
            title: title(of: tool),
            description: description(of: tool),
            inputSchema: inputSchema(of: tool),
            annotations: .init(
                title: title(of: tool), readOnlyHint: false, destructiveHint: false, idempotentHint: true,
                openWorldHint: false),
            outputSchema: outputSchema,
            taskSupport: "optional"
        )
    }

    /// The seed's three tools in the seed's order, then `proposal-status`.
    public static var declarations: [ToolDeclaration] {
        Queue.Tool.allCases.map(declaration(of:)) + [ProposalStatusTool.declaration]
    }

    private static func title(of tool: Queue.Tool) -> String {
        switch tool {
        case .credProxyBlock: "Ask for a cred-proxy route change"
        case .pipelockBlock: "Ask for an egress allowlist change"
        case .capabilityBlock: "Ask for a Dockerfile change"
        }
    }

    private static let onApproval =
        "A human operator reviews your justification and a diff against the current file, then approves, "
        + "modifies or rejects it, which can take minutes to hours. This call waits for the decision up to a "
        + "time limit; if the operator has not decided by then it answers status 'pending' with a "
        + "proposal_id: then call proposal-status with that proposal_id, again after each 'pending', until the "
        + "decision arrives. If this call is cut off by a timeout, the proposal is kept: call proposal-status (or "
        + "repeat this identical call) to get the decision — never change the file just to retry. On approval "
        + "the operator's console writes the approved file into the bottle's config and reloads it; the answer "
        + "tells you whether it was applied, and carries the final file when the operator changed it."

    private static func description(of tool: Queue.Tool) -> String {
        let path = "\(currentConfigDirectory)/\(tool.configFile.fileName)"
        switch tool {
        case .credProxyBlock:
            return "Call when cred-proxy refused your HTTPS request — missing route, expired token, wrong scope "
                + "(typically a 403 or a 404 from `http://cred-proxy:<port>/<path>/`). Read the current routes.json "
                + "from \(path), compose a modified version with the route you need, and pass the full new file "
                + "plus a justification. " + onApproval
        case .pipelockBlock:
            return "Call when pipelock refused your outbound request — host not in the allowlist, protocol "
                + "blocked, connection refused at the egress layer. Read the current allowlist from \(path), "
                + "compose a modified version (one hostname per line, optional leading `*.`), and pass the full "
                + "new file plus a justification. " + onApproval
        case .capabilityBlock:
            return "Call when the bottle is missing a tool, skill, permission, or env var you need — something "
                + "that lives in the agent Dockerfile rather than in routes or the pipelock allowlist. Read the "
                + "current Dockerfile from \(path), compose a modified version, and pass the full new file plus "
                + "a justification. On approval the bottle is rebuilt from the new Dockerfile and replaced. "
                + onApproval
        }
    }

    private static func inputSchema(of tool: Queue.Tool) -> JSONValue {
        let fileDescription: String
        let justificationDescription: String
        switch tool {
        case .credProxyBlock:
            fileDescription = "Full proposed routes.json file content (JSON text)."
            justificationDescription = "Why this routes change is justified."
        case .pipelockBlock:
            fileDescription = "Full proposed pipelock allowlist (one hostname per line)."
            justificationDescription = "Why the new host(s) should be allowed."
        case .capabilityBlock:
            fileDescription = "Full proposed Dockerfile content."
            justificationDescription = "Why this capability is needed."
        }
        return .object([
            "type": "object",
            "properties": .object([
                tool.fileArgument: .object(["type": "string", "description": .string(fileDescription)]),
                "justification": .object(["type": "string", "description": .string(justificationDescription)]),
            ]),
            "required": .array([.string(tool.fileArgument), "justification"]),
        ])
    }

    /// The shape of `structuredContent` in every answer.
    private static let statusValues: [JSONValue] = DecisionStatus.allCases.map { .string($0.rawValue) } + ["pending"]
    private static let statusDescription =
        "The operator's decision (pending: not decided yet, call proposal-status; expired: nobody "
        + "decided in time; withdrawn: only in queues of older versions)."

    /// The shape of `structuredContent` in every answer.
    public static let outputSchema: JSONValue = .object([
        "type": "object",
        "properties": .object([
            "status": .object([
                "type": "string", "enum": .array(statusValues), "description": .string(statusDescription),
            ]),
            "notes": .object(["type": "string", "description": "The operator's notes to you."]),
            "proposal_id": .object(["type": "string", "description": "The proposal's id in the operator's queue."]),
            "final_file": .object([
                "type": "string", "description": "The file the operator approved, when they modified yours.",
            ]),
            "answer": .object([
                "type": "string",
                "description":
                    "The name of the operator's preset answer whose text is in notes (e.g. use-mirror), when one was given.",
            ]),
            "decided_by": .object([
                "type": "string",
                "description": "Who decided: the operator's name, or policy:<rule> for a standing rule.",
            ]),
            "apply": .object([
                "type": "object",
                "description":
                    "What the console did with the approved file (state: pending, applied, failed, skipped).",
                "properties": .object([
                    "state": .object(["type": "string"]),
                    "summary": .object(["type": "string"]),
                ]),
            ]),
            "expires_at": .object([
                "type": "string",
                "description": .string(
                    "When a time-boxed approval ends (UTC, ISO 8601): the change is then taken out again. "
                        + "Absent: the approval is for good."),
            ]),
        ]),
        "required": .array(["status", "notes", "proposal_id"]),
    ])
}
