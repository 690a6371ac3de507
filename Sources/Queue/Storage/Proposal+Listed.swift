import FoundationEssentials

/// The listing's fast path for proposal files: `list`, the console and the
/// web console read every pending proposal of every bottle, and at fleet
/// scale (10,000 files and more) `JSONDecoder` — its keyed containers, a
/// closure per date, a `Decoder` per id and slug — was most of the time.
///
/// Same bytes, same answer as the full decode (``QueueFormat/decode(_:from:path:)``):
/// both read the text through ``QueueFileFields`` (the strict parser), and
/// this maps the members to a ``Proposal`` field by field, in the order and
/// with the types the synthesized `Decodable` conformance uses, so a file
/// either gives the same ``Proposal`` on both paths or is refused on both.
/// `ListedProposalTests` holds both to that over hostile files, and the
/// queue-file fuzz target over random ones.
extension Proposal {
    /// Decodes a proposal file's bytes.
    /// - Parameter path: named in errors, so the operator knows which file is bad.
    /// - Throws: ``QueueError/unsupportedFormat(path:version:)`` for another
    ///   format version (before any other fault, as the full decode says it),
    ///   otherwise ``QueueError/malformedFile(path:reason:)`` naming the field,
    ///   or the id's or slug's own error.
    public static func listed(from data: Data, path: () -> String) throws(QueueError) -> Proposal {
        let fields = try QueueFileFields(data, path: path)
        // A file of another version may lack any field this build knows: say that first.
        if let version = try? fields.integer("format", path: path), version != QueueFormat.version {
            throw .unsupportedFormat(path: path(), version: version)
        }
        guard let version = try fields.integer("format", path: path) else {
            throw .malformedFile(path: path(), reason: "missing field format")
        }
        let id = try ProposalID(try fields.string("id", path: path))
        let bottle = try BottleSlug(try fields.string("bottle", path: path))
        let toolName = try fields.string("tool", path: path)
        guard let tool = Tool(rawValue: toolName) else {
            throw .malformedFile(
                path: path(),
                reason: "field tool: \(toolName) is not one of \(Tool.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let proposedFile = try fields.string("proposed_file", path: path)
        let justification = try fields.string("justification", path: path)
        let currentFileSHA256 = try fields.optionalString("current_file_sha256", path: path)
        let proposedFileSHA256 = try fields.string("proposed_file_sha256", path: path)
        let createdAt = try timestamp(try fields.string("created_at", path: path), field: "created_at", path: path)
        let expiresAt = try fields.optionalString("expires_at", path: path).map { text throws(QueueError) in
            try timestamp(text, field: "expires_at", path: path)
        }
        return Proposal(
            format: version, id: id, bottle: bottle, tool: tool, proposedFile: proposedFile,
            justification: justification, currentFileSHA256: currentFileSHA256,
            proposedFileSHA256: proposedFileSHA256, createdAt: createdAt, expiresAt: expiresAt)
    }

    private static func timestamp(_ text: String, field: String, path: () -> String) throws(QueueError) -> Date {
        guard let date = Timestamp.parse(text) else {
            throw .malformedFile(path: path(), reason: "field \(field): not an RFC 3339 UTC timestamp: \(text)")
        }
        return date
    }
}
