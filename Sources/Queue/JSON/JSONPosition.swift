/// Where a JSON value, key or error is: byte offset, 1-based line, and the
/// offset where that line starts.
///
/// The column is not stored: counting it for every value would make a long
/// single-line file quadratic, so it is computed from `lineStart` only when a
/// message needs it.
public struct JSONPosition: Equatable, Sendable {
    /// Bytes from the start of the text.
    public let offset: Int
    /// 1-based line (lines end at `\n`).
    public let line: Int
    /// The byte offset where ``line`` starts.
    public let lineStart: Int

    @inlinable
    public init(offset: Int, line: Int, lineStart: Int) {
        self.offset = offset
        self.line = line
        self.lineStart = lineStart
    }

    /// The 1-based column in `text` (the parsed text), counted in Unicode
    /// scalars, so a key after "ünï" is where an editor shows it.
    public func column(in text: String) -> Int {
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: lineStart)
        let end = utf8.index(utf8.startIndex, offsetBy: offset)
        return text.unicodeScalars[start..<end].count + 1
    }

    /// The 1-based column in the UTF-8 `bytes` that were parsed: one per
    /// byte that starts a scalar (for valid UTF-8, the same count as
    /// ``column(in:)-4u5zq``; an invalid byte counts as one column).
    public func column(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var column = 1
        for index in lineStart..<min(offset, bytes.count) where bytes[index] & 0xC0 != 0x80 {
            column += 1
        }
        return column
    }
}
