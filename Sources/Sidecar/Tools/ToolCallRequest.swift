import MCP
import Queue

/// The arguments of a `tools/call`, checked field by field with the seed's messages.
struct ToolCallRequest {
    var tool: Queue.Tool
    var proposedFile: String
    var justification: String

    init(_ params: [String: Value]) throws(RPCError) {
        guard let name = params["name"]?.stringValue else { throw .invalidParams("tools/call missing 'name'") }
        guard let tool = Queue.Tool(rawValue: name) else {
            throw .invalidParams(
                "unknown tool '\(name)'; the tools are \(Queue.Tool.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var arguments: [String: Value] = [:]
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let object)?: arguments = object
        default: throw .invalidParams("tools/call 'arguments' must be an object")
        }
        let field = tool.fileArgument
        guard let file = Self.string(arguments[field]) else {
            throw .invalidParams("\(name): '\(field)' is required and must be a string")
        }
        guard let justification = Self.string(arguments["justification"]),
            !justification.allSatisfy(\.isWhitespace)
        else {
            throw .invalidParams("\(name): 'justification' is required and must be a non-empty string")
        }
        let known: Set<String> = [field, "justification"]
        if let extra = arguments.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidParams("\(name): unknown argument '\(extra)'; expected '\(field)' and 'justification'")
        }
        self.tool = tool
        self.proposedFile = file
        self.justification = justification
    }

    /// A string argument.
    private static func string(_ value: Value?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }
}
