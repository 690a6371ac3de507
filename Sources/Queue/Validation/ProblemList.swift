/// Collects the problems of one proposed file while a validator walks it,
/// keeping the first ``ValidationError/problemLimit`` and counting the rest so
/// memory stays bounded whatever the agent sends.
struct ProblemList {
    private(set) var kept: [ValidationProblem] = []
    private(set) var omitted = 0

    var isEmpty: Bool { kept.isEmpty }

    /// Adds a problem. Every part is an autoclosure, so once the list is
    /// full a problem costs a counter increment, not a message and a column
    /// count (which would make a file of many mistakes quadratic).
    mutating func add(
        _ message: @autoclosure () -> String,
        line: @autoclosure () -> Int? = nil,
        column: @autoclosure () -> Int? = nil
    ) {
        if kept.count < ValidationError.problemLimit {
            kept.append(ValidationProblem(message(), line: line(), column: column()))
        } else {
            omitted += 1
        }
    }

    /// Counts `count` problems found but not described (a caller that
    /// already capped its own list, like the JSON parser's duplicate keys).
    mutating func omit(_ count: Int) {
        omitted += count
    }

    /// Throws the collected problems for `tool`, if there are any.
    func throwIfAny(for tool: Tool) throws(ValidationError) {
        if !kept.isEmpty {
            throw ValidationError(tool: tool, problems: kept, omittedCount: omitted)
        }
    }

    /// Throws the collected problems for `tool`; for a check that cannot go
    /// on after the problem it just added.
    func throwAll(for tool: Tool) throws(ValidationError) -> Never {
        throw ValidationError(tool: tool, problems: kept, omittedCount: omitted)
    }
}
