import Foundation
import Queue

/// The last part of a command's output: at most 40 lines and 4 KiB, kept
/// with the apply outcome so the operator (and the agent) can see why a
/// reload failed without the queue file growing with a chatty command.
struct OutputTail: Sendable {
    static let maxBytes = 4096
    static let maxLines = 40

    private var buffer: [UInt8] = []

    /// Adds output, keeping only the newest bytes.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count > OutputTail.maxBytes * 2 {
            buffer.removeFirst(buffer.count - OutputTail.maxBytes)
        }
    }

    /// The tail as text (invalid UTF-8 replaced).
    var text: String {
        var bytes = buffer.suffix(OutputTail.maxBytes)
        // Drop a partial UTF-8 sequence cut at the front.
        while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let trimmedEnd = lines.last == "" ? lines.dropLast() : lines[...]
        return trimmedEnd.suffix(OutputTail.maxLines).joined(separator: "\n")
    }
}

extension OutputTail {
    /// `text` cut to the newest 40 lines and 4 KiB, as kept in an outcome; `nil` when empty.
    static func clip(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        var tail = OutputTail()
        Array(text.utf8).withUnsafeBytes { tail.append($0) }
        return tail.text
    }

    /// One line of engine output for a one-line summary: control characters
    /// made visible, at most 300 characters; a longer line keeps its end,
    /// where engines put the cause (`…: exec: "/missing": stat /missing: no
    /// such file or directory`).
    static func summaryLine(_ text: some StringProtocol) -> String {
        let escaped = Escaped(String(text)).description
        return escaped.count > 300 ? "…" + String(escaped.suffix(299)) : escaped
    }
}
