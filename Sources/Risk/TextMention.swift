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
        let answer = utf8.withContiguousStorageIfAvailable { text -> Bool? in
            guard !text.contains(where: { $0 >= 0x80 || $0 == 0x0D }) else { return nil }
            return needle.utf8.withContiguousStorageIfAvailable { pattern -> Bool? in
                guard !pattern.contains(where: { $0 >= 0x80 || $0 == 0x0D }) else { return nil }
                if pattern.isEmpty { return nil }
                guard let base = text.baseAddress, let sought = pattern.baseAddress else { return false }
                // Each place the first byte occurs (memchr), compared whole (memcmp).
                var start = 0
                while text.count - start >= pattern.count,
                    let hit = memchr(base + start, CInt(sought.pointee), text.count - start - pattern.count + 1)
                {
                    if memcmp(hit, sought, pattern.count) == 0 { return true }
                    start = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
                }
                return false
            } ?? nil
        } ?? nil
        if answer == nil, Self.bytesDecide(needle), !utf8.contains(needle.utf8) {
            // Other text (an agent's non-ASCII words) went to Foundation for every question, 16 % of a
            // fuzzed 278-byte RUN's 0.65 s: Foundation matches canonically equivalent text, and a
            // needle of ASCII characters without a canonical singleton (K, `;`, `` ` ``) is canonically
            // equivalent only to its own bytes, so where those bytes are absent the answer is no.
            return false
        }
        return answer ?? contains(needle)
    }

    /// Whether a byte search that finds nothing settles the question for `needle`: ASCII without a
    /// carriage return, and none of the ASCII characters another scalar decomposes to alone
    /// (U+212A KELVIN SIGN → K, U+037E GREEK QUESTION MARK → `;`, U+1FEF GREEK VARIA → `` ` ``).
    private static func bytesDecide(_ needle: String) -> Bool {
        !needle.isEmpty && needle.utf8.allSatisfy { $0 < 0x80 && $0 != 0x0D && $0 != 0x4B && $0 != 0x3B && $0 != 0x60 }
    }
}

extension String.UTF8View {
    /// Whether `pattern`'s bytes occur in these (a plain byte search).
    fileprivate func contains(_ pattern: String.UTF8View) -> Bool {
        let text = Array(self), sought = Array(pattern)
        guard !sought.isEmpty, text.count >= sought.count else { return sought.isEmpty }
        return text.withUnsafeBufferPointer { text in
            sought.withUnsafeBufferPointer { sought in
                guard let base = text.baseAddress, let first = sought.baseAddress else { return false }
                var start = 0
                while text.count - start >= sought.count,
                    let hit = memchr(base + start, CInt(first.pointee), text.count - start - sought.count + 1)
                {
                    if memcmp(hit, first, sought.count) == 0 { return true }
                    start = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
                }
                return false
            }
        }
    }
}
