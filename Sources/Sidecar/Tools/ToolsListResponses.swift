import Foundation
import MCP
import Queue

/// The `tools/list` result as bytes, computed once per revision: the answer
/// to the most frequent request is a lookup and a copy.
///
/// Older revisions get what they define: 2024-11-05 has no annotations,
/// 2025-03-26 no `title` or `outputSchema`; 2026-07-28 adds `resultType` and
/// the caching fields.
public struct ToolsListResponses: Sendable {
    private let byRevision: [ProtocolRevision: [UInt8]]

    /// Builds the answers for every revision we speak.
    public init() {
        var table: [ProtocolRevision: [UInt8]] = [:]
        for revision in ProtocolRevision.all {
            let tools = ToolCatalog.declarations.map { tool -> Value in
                var object: [String: Value] = [
                    "name": .string(tool.name), "description": .string(tool.description ?? ""),
                    "inputSchema": tool.inputSchema,
                ]
                if revision >= .v2025_03_26 {
                    object["annotations"] = .object([
                        "title": .string(tool.annotations.title ?? tool.name),
                        "readOnlyHint": .bool(tool.annotations.readOnlyHint ?? false),
                        "destructiveHint": .bool(tool.annotations.destructiveHint ?? false),
                        "idempotentHint": .bool(tool.annotations.idempotentHint ?? true),
                        "openWorldHint": .bool(tool.annotations.openWorldHint ?? false),
                    ])
                }
                if revision >= .v2025_11_25, !revision.isModern {
                    // 2025-11-25 core tasks: a proposal may be made as a task (see ProposalTask).
                    let support = tool.name == ProposalStatusTool.name ? "forbidden" : "optional"
                    object["execution"] = .object(["taskSupport": .string(support)])
                }
                if revision >= .v2025_06_18 {
                    if let title = tool.title { object["title"] = .string(title) }
                    if let schema = tool.outputSchema { object["outputSchema"] = schema }
                }
                return .object(object)
            }
            var result: [String: Value] = ["tools": .array(tools)]
            if revision.isModern {
                result["resultType"] = "complete"
                result["ttlMs"] = 0
                result["cacheScope"] = "private"
                result["_meta"] = Dispatcher.modernMeta(nil)
            }
            table[revision] = RPCReply.json(.object(result))
        }
        byRevision = table
    }

    /// The result bytes for `revision` (built for every revision in `init`).
    public func result(for revision: ProtocolRevision) -> [UInt8] { byRevision[revision]! }
}
