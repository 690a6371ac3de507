import Queue

/// One tool as `tools/list` describes it: what the MCP schema's `Tool` holds,
/// for the four tools the sidecar has, written out per revision by
/// ``listing(for:)``.
///
/// The sidecar's own type rather than the MCP Swift SDK's `Tool`: the SDK
/// brought Foundation and a second JSON value tree into the sidecar for
/// these few fields (docs/architecture.md, "The sidecar without Foundation").
public struct ToolDeclaration: Sendable {
    /// The hints a client may show or act on (2025-03-26 on).
    public struct Annotations: Sendable {
        /// A title for people.
        public var title: String
        /// Whether the tool changes nothing.
        public var readOnlyHint: Bool
        /// Whether the tool may destroy something.
        public var destructiveHint: Bool
        /// Whether calling it twice with the same arguments does what calling it once does.
        public var idempotentHint: Bool
        /// Whether it reaches outside the bottle's own world.
        public var openWorldHint: Bool
    }

    /// The tool's name (what `tools/call` names).
    public var name: String
    /// A title for people (2025-06-18 on).
    public var title: String
    /// What the model reads to decide when to call it.
    public var description: String
    /// The JSON Schema of its arguments.
    public var inputSchema: JSONValue
    /// Its hints.
    public var annotations: Annotations
    /// The JSON Schema of its `structuredContent` (2025-06-18 on).
    public var outputSchema: JSONValue
    /// Whether it may be called as a 2025-11-25 task: `proposal-status` answers at once, so it may not.
    public var taskSupport: String

    /// The tool as `tools/list` at `revision` lists it: 2024-11-05 has no
    /// annotations, 2025-03-26 no `title` or `outputSchema`, only 2025-11-25
    /// has `execution`.
    public func listing(for revision: ProtocolRevision) -> JSONValue {
        var object: JSONValue = [
            "name": .string(name), "description": .string(description), "inputSchema": inputSchema,
        ]
        if revision >= .v2025_03_26 {
            object["annotations"] = [
                "title": .string(annotations.title),
                "readOnlyHint": .bool(annotations.readOnlyHint),
                "destructiveHint": .bool(annotations.destructiveHint),
                "idempotentHint": .bool(annotations.idempotentHint),
                "openWorldHint": .bool(annotations.openWorldHint),
            ]
        }
        if revision >= .v2025_11_25, !revision.isModern {
            // 2025-11-25 core tasks: a proposal may be made as a task (see ProposalTask).
            object["execution"] = ["taskSupport": .string(taskSupport)]
        }
        if revision >= .v2025_06_18 {
            object["title"] = .string(title)
            object["outputSchema"] = outputSchema
        }
        return object
    }
}
