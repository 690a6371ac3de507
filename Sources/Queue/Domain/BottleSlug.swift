/// A bottle's id, as it appears in directory names, container names and the
/// console.
///
/// A slug names a directory under the queue root and the config root, so it
/// is checked once, here, before any path is built from it: 1 to 63
/// characters from `[A-Za-z0-9_.-]`, starting with a letter or digit (the
/// rule container engines apply to container names). That rules out `.`,
/// `..`, `/`, NUL and every control character by construction.
public struct BottleSlug: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The validated slug text.
    public let rawValue: String

    /// Validates `rawValue` as a slug.
    /// - Throws: ``QueueError/invalidSlug(_:reason:)`` naming what is wrong.
    public init(_ rawValue: String) throws(QueueError) {
        let bytes = Array(rawValue.utf8)
        guard !bytes.isEmpty else {
            throw .invalidSlug(rawValue, reason: "it is empty")
        }
        guard bytes.count <= 63 else {
            throw .invalidSlug(rawValue, reason: "it is longer than 63 characters")
        }
        guard BottleSlug.isAlphanumeric(bytes[0]) else {
            throw .invalidSlug(rawValue, reason: "it must start with a letter or digit")
        }
        for byte in bytes
        where
            !(BottleSlug.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "-"))
        {
            throw .invalidSlug(rawValue, reason: "only letters, digits, '_', '.' and '-' are allowed")
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: BottleSlug, rhs: BottleSlug) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension BottleSlug: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
