import Queue

/// What is wrong with a standing rule, a preset answer or the policy file:
/// one message that names the file, the line and the key where they are
/// known, and what to write instead.
public struct PolicyProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message, escaped for a terminal by whoever prints it.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// `text` in double quotes, with anything unprintable escaped: operator
    /// files are trusted, but a copy-pasted control character should still
    /// not reach the terminal raw.
    static func quoted(_ text: String) -> String {
        "\"\(Escaped(text))\""
    }
}
