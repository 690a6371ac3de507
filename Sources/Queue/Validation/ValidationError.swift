/// Why a proposed file was refused, with every problem found in it.
///
/// The sidecar turns this into one JSON-RPC `-32602` error, so an agent gets
/// all of its mistakes at once instead of fixing them one call (and one
/// operator-free round trip) at a time. Each problem names the line and column
/// where there is one; the list is capped at ``ValidationError/problemLimit``
/// and ``omittedCount`` says how many more were found.
public struct ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// How many problems are kept; the rest are only counted, so a 1 MiB file
    /// of mistakes does not produce a 1 MiB error message.
    public static let problemLimit = 20

    /// The tool whose proposed file was refused (it also names the file).
    public let tool: Tool
    /// The first problems found, in file order (at most ``problemLimit``).
    public let problems: [ValidationProblem]
    /// How many further problems were found but not kept.
    public let omittedCount: Int

    /// An error for `tool` with `problems`; problems beyond ``problemLimit``
    /// are dropped and counted in ``omittedCount``.
    public init(tool: Tool, problems: [ValidationProblem], omittedCount: Int = 0) {
        self.tool = tool
        self.problems = Array(problems.prefix(Self.problemLimit))
        self.omittedCount = omittedCount + max(0, problems.count - Self.problemLimit)
    }

    /// An error with a single problem.
    public init(tool: Tool, _ problem: ValidationProblem) {
        self.init(tool: tool, problems: [problem])
    }

    /// Every problem found, kept or omitted.
    public var totalCount: Int { problems.count + omittedCount }

    /// One problem per line, each prefixed with the tool and the file, e.g.
    /// `cred-proxy-block: routes.json line 3, column 5: duplicate key "path"`.
    /// Several problems get a heading line and one indented line each.
    public var description: String {
        let file = tool.configFile.fileName
        if totalCount == 1, let only = problems.first {
            return "\(tool.rawValue): \(only.located(in: file))"
        }
        var lines = ["\(tool.rawValue): the proposed \(file) has \(totalCount) problems:"]
        for problem in problems {
            lines.append("  \(problem.located(in: file))")
        }
        if omittedCount > 0 {
            lines.append("  ... and \(omittedCount) more")
        }
        return lines.joined(separator: "\n")
    }
}

/// One thing wrong with a proposed file, worded as what to fix.
public struct ValidationProblem: Equatable, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it. Any text quoted from the proposal is
    /// already escaped and shortened, so the message is safe to show anywhere.
    public let message: String
    /// The 1-based line the problem is on, when it has one.
    public let line: Int?
    /// The 1-based column (counted in Unicode scalars) on ``line``, when known.
    public let column: Int?

    /// A problem at `line` and `column` (both 1-based), or of the whole file
    /// when `line` is nil.
    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = line == nil ? nil : column
    }

    /// `line 3, column 5: message`, `line 3: message` or just the message.
    public var description: String {
        guard let line else { return message }
        if let column {
            return "line \(line), column \(column): \(message)"
        }
        return "line \(line): \(message)"
    }

    /// The description with the file name in front of a position, so every
    /// line of an error can be read on its own.
    func located(in file: String) -> String {
        line == nil ? message : "\(file) \(description)"
    }
}
