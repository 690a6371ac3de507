import Queue

/// The error `ProposedFileValidator` throws for `content`, or nil when it
/// accepts the file.
func refusal(_ content: String, for tool: Tool, current: String? = nil) -> ValidationError? {
    do {
        try ProposedFileValidator.validate(content, for: tool, current: current)
        return nil
    } catch {
        return error
    }
}

/// The problems of a refused file as `line:column: message` strings, or an
/// empty list when it was accepted; positions are what the agent sees.
func problems(_ content: String, for tool: Tool, current: String? = nil) -> [ValidationProblem] {
    refusal(content, for: tool, current: current)?.problems ?? []
}

extension ValidationProblem {
    /// `(line, column)` for comparing positions in one `#expect`.
    var position: [Int?] { [line, column] }
}
