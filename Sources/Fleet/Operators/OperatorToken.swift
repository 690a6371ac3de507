import Foundation
import Queue

/// A one-time sign-in token: 32 random bytes as hex, handed out once in a
/// login URL; the database keeps only its SHA-256.
///
/// Why hashed: whoever reads the table (a backup, a replica, a role with
/// SELECT) learns nothing that signs in. The token has 256 bits, so an
/// unsalted SHA-256 is enough: there is nothing to guess.
public enum OperatorToken {
    /// How long a link may wait before it is used.
    public static let defaultLifetime: Duration = .seconds(24 * 3600)

    /// A new token.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }.joined()
    }

    /// The SHA-256 of `token`, lower-case hex: what is stored and looked up.
    public static func digest(_ token: String) -> String {
        SHA256Hex.of(token)
    }

    /// Whether `text` has a token's shape (64 lower-case hex digits), checked
    /// before any database lookup.
    public static func isWellFormed(_ text: String) -> Bool {
        SHA256Hex.isWellFormed(text)
    }
}
