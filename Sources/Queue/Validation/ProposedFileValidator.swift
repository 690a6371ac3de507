/// The sidecar's gate for a proposed file: what an agent sends is checked
/// here before it becomes a proposal, so the operator only ever reviews files
/// that the tool using them could load.
///
/// Checks, in order: the size cap, an empty or blank file, a no-op (byte for
/// byte the bottle's current file), then the file's own rules
/// (``RoutesDocument``, ``AllowlistDocument``, ``DockerfileDocument``). The
/// operator is still the real gate; this catches paste errors, wrong-tool
/// calls and malformed files while the agent can still fix them.
public enum ProposedFileValidator {
    /// The largest proposed file accepted, in bytes of UTF-8: 1 MiB, the
    /// seed's request body limit.
    public static let maximumSize = 1_048_576

    /// Checks `content` as the full proposed file for `tool`.
    /// - Parameters:
    ///   - content: the proposed file, as the agent sent it.
    ///   - tool: the tool called; it decides which file this is.
    ///   - current: the bottle's current file, or nil when it has none.
    /// - Throws: ``ValidationError`` with every problem found (up to the
    ///   limit), each worded as what to fix.
    public static func validate(_ content: String, for tool: Tool, current: String?)
        throws(ValidationError)
    {
        let file = tool.configFile.fileName
        let size = content.utf8.count
        if size > maximumSize {
            throw ValidationError(
                tool: tool,
                ValidationProblem(
                    "the proposed \(file) is \(size) bytes of UTF-8; the limit is \(maximumSize) bytes (1 MiB)"
                ))
        }
        if content.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            throw ValidationError(
                tool: tool,
                ValidationProblem(
                    "the proposed \(file) is empty; send the whole file as it should be, not a diff or a description"
                ))
        }
        if let current, content.utf8.elementsEqual(current.utf8) {
            throw ValidationError(
                tool: tool,
                ValidationProblem(
                    "the proposed \(file) is identical to the current file; nothing to change (edit the current file and send the whole changed file)"
                ))
        }
        switch tool {
        case .credProxyBlock: _ = try RoutesDocument.parse(content)
        case .pipelockBlock: _ = try AllowlistDocument.parse(content)
        case .capabilityBlock: _ = try DockerfileDocument.parse(content)
        }
    }
}
