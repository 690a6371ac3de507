import Queue

/// `proposal-status`: the fourth tool, for a model whose call came back
/// `pending` (the hold limit passed) or whose client gave up on the call.
///
/// It takes the proposal id from the earlier answer, holds again up to the
/// hold limit and answers exactly as the original call would have: the
/// decision, or `pending` again. It changes nothing, so it is annotated
/// read-only and idempotent: a client may call it as often as it likes.
public enum ProposalStatusTool {
    /// The tool's name.
    public static let name = "proposal-status"

    /// The argument naming the proposal.
    public static let argument = "proposal_id"

    /// The MCP declaration.
    public static var declaration: ToolDeclaration {
        ToolDeclaration(
            name: name,
            title: "Wait for the operator's decision on a proposal",
            description: description,
            inputSchema: .object([
                "type": "object",
                "properties": .object([
                    argument: .object([
                        "type": "string",
                        "description": .string(
                            "The proposal id from an earlier answer (e.g. 20261125-024900-3fa9c2d1e4b7)."),
                        "pattern": "^[0-9]{8}-[0-9]{6}-[0-9a-f]{12}$",
                    ])
                ]),
                "required": .array([.string(argument)]),
            ]),
            annotations: .init(
                title: "Wait for the operator's decision on a proposal", readOnlyHint: true, destructiveHint: false,
                idempotentHint: true, openWorldHint: false),
            outputSchema: ToolCatalog.outputSchema,
            taskSupport: "forbidden"
        )
    }

    static let description =
        "Wait for the operator's decision on a proposal you already made with cred-proxy-block, pipelock-block or "
        + "capability-block. Call it when one of those answered status 'pending' (the operator had not decided "
        + "yet), or when your call to one of them was cut off by a timeout: pass the proposal_id from that "
        + "answer. It waits up to the same limit and answers like the original call: the decision "
        + "(approved, modified with final_file, rejected with notes, expired) or 'pending' again — then call it "
        + "again. Never send the proposal again to learn its outcome: the decision is kept until you ask for it."

    /// The proposal id in a `proposal-status` call, or what to fix.
    static func proposalID(in params: JSONValue) -> Result<ProposalID, ToolCallRequest.Problem> {
        let arguments: JSONValue
        do throws(ToolCallRequest.Problem) {
            arguments = try ToolCallRequest.arguments(params, tool: name)
        } catch {
            return .failure(error)
        }
        if let extra = arguments.keys.sorted().first(where: { $0 != argument }) {
            return .failure(.invalidInput("\(name): unknown argument '\(extra)'; expected '\(argument)'"))
        }
        guard let text = ToolCallRequest.string(arguments[argument]) else {
            return .failure(
                .invalidInput(
                    "\(name): '\(argument)' is required: the proposal id from the answer of your earlier call"))
        }
        do {
            return .success(try ProposalID(text))
        } catch {
            return .failure(
                .invalidInput(
                    "\(name): '\(argument)' must be a proposal id such as 20261125-024900-3fa9c2d1e4b7, "
                        + "copied from the answer of your earlier call; got \(Escaped(String(text.prefix(64))))"))
        }
    }

    /// What a model is told about an id this bottle's queue does not hold.
    static func unknown(_ id: ProposalID) -> String {
        "\(name): there is no proposal \(id) in this bottle's queue; check the id in the earlier answer, or "
            + "make the proposal with cred-proxy-block, pipelock-block or capability-block"
    }
}
