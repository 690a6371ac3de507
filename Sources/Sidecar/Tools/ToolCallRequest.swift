import Queue

/// The arguments of a `tools/call` for one of the three proposal tools,
/// checked field by field with the seed's messages.
struct ToolCallRequest {
    /// Why a call could not be read.
    enum Problem: Error {
        /// Not a call of a tool we have: a JSON-RPC error (-32602).
        case protocolError(RPCError)
        /// The tool's arguments are wrong: the model can fix them (see ``CallHolder/Admission/invalid(_:)``).
        case invalidInput(String)
    }

    var tool: Queue.Tool
    var proposedFile: String
    var justification: String

    /// The `name` of a `tools/call`, if it has one.
    static func toolName(_ params: JSONValue) -> String? { params["name"]?.stringValue }

    /// The arguments object of a `tools/call` (empty when absent).
    static func arguments(_ params: JSONValue, tool name: String) throws(Problem) -> JSONValue {
        switch params["arguments"] {
        case nil, .null?: return [:]
        case let object? where object.isObject: return object
        default: throw .invalidInput("\(name): 'arguments' must be an object")
        }
    }

    init(_ params: JSONValue) throws(Problem) {
        guard let name = Self.toolName(params) else {
            throw .protocolError(.invalidParams("tools/call missing 'name'"))
        }
        guard let tool = Queue.Tool(rawValue: name) else {
            let names = Queue.Tool.allCases.map(\.rawValue) + [ProposalStatusTool.name]
            throw .protocolError(
                .invalidParams("unknown tool '\(name)'; the tools are \(names.joined(separator: ", "))"))
        }
        let arguments = try Self.arguments(params, tool: name)
        let field = tool.fileArgument
        guard let file = Self.string(arguments[field]) else {
            throw .invalidInput("\(name): '\(field)' is required and must be a string")
        }
        guard let justification = Self.string(arguments["justification"]),
            !justification.allSatisfy(\.isWhitespace)
        else {
            throw .invalidInput("\(name): 'justification' is required and must be a non-empty string")
        }
        // The host refuses a proposal file whose justification is longer
        // (Proposal.shapeProblem); queued, it would never be decided and the
        // agent would wait for nothing. Told now, the model can shorten it.
        let limit = Proposal.maximumJustificationSize
        if justification.utf8.count > limit {
            throw .invalidInput(
                "\(name): 'justification' is \(justification.utf8.count) bytes; the limit is \(limit) (\(limit / 1024) KiB): "
                    + "give the reason in a few sentences, not the document")
        }
        let known: Set<String> = [field, "justification"]
        if let extra = arguments.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidInput("\(name): unknown argument '\(extra)'; expected '\(field)' and 'justification'")
        }
        self.tool = tool
        self.proposedFile = file
        self.justification = justification
    }

    /// A string argument.
    static func string(_ value: JSONValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }
}
