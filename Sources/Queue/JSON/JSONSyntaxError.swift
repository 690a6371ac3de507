/// Why a text is not JSON, and where: the first syntax error ends parsing.
///
/// The message says what to write instead and quotes agent text only
/// through `QuotedText`/`CharacterName`, so it is safe to show on a terminal
/// or send back to the agent as it is.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it, without the position.
    public let message: String
    /// Where reading stopped (or where the faulty construct starts).
    public let position: JSONPosition
    /// The 1-based column of ``position``, counted in Unicode scalars.
    public let column: Int

    public init(message: String, position: JSONPosition, column: Int) {
        self.message = message
        self.position = position
        self.column = column
    }

    /// `line L, column C: message`.
    public var description: String { "line \(position.line), column \(column): \(message)" }
}
