import Crypto
import FoundationEssentials

/// Lowercase hex SHA-256, the one hash the queue format uses.
public enum SHA256Hex {
    /// The hash of `text`'s UTF-8 bytes.
    public static func of(_ text: String) -> String {
        var text = text
        // Hashed in place: a listing hashes every proposed file, and a copy into `Data` costs as much as the hash.
        return text.withUTF8 { bytes in
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            return hex(hasher.finalize())
        }
    }

    /// The hash of `data`.
    public static func of(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// The digest in lowercase hex, written into one 64-byte string: a
    /// listing makes two per proposal file, and a `String(radix:)` per byte
    /// (32 small strings) cost more than the hash of a small file.
    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 64) { buffer in
            var index = 0
            for byte in digest {
                buffer[index] = digits.utf8Start[Int(byte >> 4)]
                buffer[index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    /// Whether `text` has the shape of a digest this type writes: exactly 64
    /// lowercase hex digits. A hash field read from a queue file is checked
    /// with this before the host shows it or copies it into a record.
    public static func isWellFormed(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            bytes.count == 64 && bytes.allSatisfy { $0 &- UInt8(ascii: "0") < 10 || $0 &- UInt8(ascii: "a") < 6 }
        }
    }
}
