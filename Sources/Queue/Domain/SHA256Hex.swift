import Crypto
import Foundation

/// Lowercase hex SHA-256, the one hash the queue format uses.
public enum SHA256Hex {
    /// The hash of `text`'s UTF-8 bytes.
    public static func of(_ text: String) -> String {
        of(Data(text.utf8))
    }

    /// The hash of `data`.
    public static func of(_ data: Data) -> String {
        let digest = SHA256.hash(data: data)
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }
        return out
    }

    /// Whether `text` has the shape of a digest this type writes: exactly 64
    /// lowercase hex digits. A hash field read from a queue file is checked
    /// with this before the host shows it or copies it into a record.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}
