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
        return answer ?? contains(needle)
    }
}
