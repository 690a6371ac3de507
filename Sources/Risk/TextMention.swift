import Foundation
import Queue

extension String {
    /// Whether `needle` occurs in the text: the answer of Foundation's
    /// `contains(_:)`, which the Dockerfile rules asked dozens of times per
    /// instruction (`chmod`, `sources.list`, `$(`, `\nroot:` in every word).
    ///
    /// Foundation copies the text into an NSString for each question. Text
    /// that is plain ASCII without a carriage return (nearly every Dockerfile)
    /// has one scalar per character, where Foundation's search is a search for
    /// the bytes, so it is answered by a search for the bytes; any other text still goes to
    /// Foundation, so a combining mark or a `\r\n` reads exactly as before.
    func mentions(_ needle: String) -> Bool {
        let verdict = utf8.withContiguousStorageIfAvailable { text -> Bool? in
            needle.utf8.withContiguousStorageIfAvailable { pattern -> Bool? in
                guard !pattern.isEmpty, !pattern.contains(where: Self.isNotPlain) else { return nil }
                let found = Self.bytes(pattern, occurIn: text)
                if !text.contains(where: Self.isNotPlain) { return found }
                // Other text (an agent's non-ASCII words) went to Foundation for every question, 16 % of a
                // fuzzed 278-byte RUN's 0.65 s: Foundation matches canonically equivalent text, and a
                // needle of ASCII characters without a canonical singleton (K, `;`, `` ` ``) is canonically
                // equivalent only to its own bytes, so where those bytes are absent the answer is no.
                return !found && !pattern.contains(where: Self.isSingletonTarget) ? false : nil
            } ?? nil
        } ?? nil
        return verdict ?? contains(needle)
    }

    /// A byte that keeps a byte search from being Foundation's answer: not ASCII, or a carriage
    /// return (`\r\n` is one character).
    private static func isNotPlain(_ byte: UInt8) -> Bool { byte >= 0x80 || byte == 0x0D }

    /// The ASCII characters another scalar decomposes to alone (U+212A KELVIN SIGN → K,
    /// U+037E GREEK QUESTION MARK → `;`, U+1FEF GREEK VARIA → `` ` ``): text without their bytes
    /// may still hold them, canonically.
    private static func isSingletonTarget(_ byte: UInt8) -> Bool { byte == 0x4B || byte == 0x3B || byte == 0x60 }

    /// Whether `pattern` (not empty) occurs in `text` as bytes: each place its first byte occurs
    /// (memchr), compared whole (memcmp).
    private static func bytes(_ pattern: UnsafeBufferPointer<UInt8>, occurIn text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress, let sought = pattern.baseAddress else { return false }
        var start = 0
        while text.count - start >= pattern.count,
            let hit = memchr(base + start, CInt(sought.pointee), text.count - start - pattern.count + 1)
        {
            if memcmp(hit, sought, pattern.count) == 0 { return true }
            start = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return false
    }
}
