import Queue

/// The `tools/list` result as bytes, computed once per revision: the answer
/// to the most frequent request is a lookup and a copy.
///
/// Each tool is listed as its revision defines (``ToolDeclaration/listing(for:)``);
/// 2026-07-28 adds `resultType` and the caching fields.
public struct ToolsListResponses: Sendable {
    private let byRevision: [ProtocolRevision: [UInt8]]

    /// Builds the answers for every revision we speak.
    public init() {
        var table: [ProtocolRevision: [UInt8]] = [:]
        for revision in ProtocolRevision.all {
            var result: JSONValue = ["tools": .array(ToolCatalog.declarations.map { $0.listing(for: revision) })]
            if revision.isModern {
                result["resultType"] = "complete"
                result["ttlMs"] = 0
                result["cacheScope"] = "private"
                result["_meta"] = Dispatcher.modernMeta(nil)
            }
            table[revision] = RPCReply.json(result)
        }
        byRevision = table
    }

    /// The result bytes for `revision` (built for every revision in `init`).
    public func result(for revision: ProtocolRevision) -> [UInt8] { byRevision[revision]! }
}
