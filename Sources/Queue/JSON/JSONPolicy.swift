/// What the parser does with the two things RFC 8259 leaves to the reader:
/// a key that appears twice in one object, and a `\u` escape that is half of
/// a surrogate pair. Each caller states both, so the choice is visible where
/// the parser is used (docs/validation.md and docs/sidecar.md say why).
public struct JSONPolicy: Sendable {
    /// A key that appears a second time in the same object.
    public enum DuplicateKeys: Sendable {
        /// The text is refused at the second occurrence (a syntax error).
        case refuse
        /// Parsing goes on and every duplicate is recorded in
        /// ``JSONParser/duplicates`` (up to a limit), so one pass can name
        /// all of them; the caller refuses the text when there is any.
        case report(limit: Int)
    }

    /// A `\uD800`–`\uDFFF` escape that is not part of a high-low pair.
    public enum LoneSurrogates: Sendable {
        /// A syntax error naming the escape.
        case refuse
        /// Decoded as U+FFFD, the replacement character, as invalid UTF-8 is.
        case replace
    }

    public var duplicateKeys: DuplicateKeys
    public var loneSurrogates: LoneSurrogates

    public init(duplicateKeys: DuplicateKeys, loneSurrogates: LoneSurrogates) {
        self.duplicateKeys = duplicateKeys
        self.loneSurrogates = loneSurrogates
    }
}

/// A key that appeared twice in one object, as ``JSONPolicy/DuplicateKeys/report(limit:)`` records it.
public struct JSONDuplicateKey: Sendable {
    /// The key, escapes decoded.
    public let key: String
    /// Where the second occurrence starts (its opening quote).
    public let position: JSONPosition
    /// Where the first occurrence starts, when the builder kept it.
    public let firstPosition: JSONPosition?
}

/// What adding a member to an object did.
public enum JSONMemberInsertion: Sendable {
    /// The key was new in this object.
    case inserted
    /// The key was already there (at `firstAt`, when the builder knows).
    case duplicate(firstAt: JSONPosition?)
}
