/// A proposed file cut into lines the way the tools that read it do: on
/// `\n`, with one `\r` before it dropped (CRLF files), numbered from 1.
///
/// Works on the UTF-8 view so a 1 MiB file is split in linear time, and never
/// iterates `Character`s (which would fuse `\r\n` and hide a stray `\r`).
struct TextLines: Sequence {
    let text: String

    func makeIterator() -> Iterator {
        Iterator(text: text)
    }

    struct Iterator: IteratorProtocol {
        let text: String
        var position: String.Index
        var number = 0
        var done = false

        init(text: String) {
            self.text = text
            self.position = text.startIndex
        }

        mutating func next() -> (number: Int, text: Substring)? {
            guard !done else { return nil }
            let utf8 = text.utf8
            let end = utf8[position...].firstIndex(of: UInt8(ascii: "\n"))
            var lineEnd = end ?? utf8.endIndex
            if lineEnd > position, utf8[utf8.index(before: lineEnd)] == UInt8(ascii: "\r") {
                lineEnd = utf8.index(before: lineEnd)
            }
            let line = text[position..<lineEnd]
            number += 1
            if let end {
                position = utf8.index(after: end)
            } else {
                done = true
            }
            return (number, line)
        }
    }
}

extension Substring {
    /// The text without spaces and tabs at either end.
    func trimmingBlanks() -> Substring {
        drop { $0 == " " || $0 == "\t" }.trimmingTrailingBlanks()
    }

    /// The text without spaces and tabs at the end.
    func trimmingTrailingBlanks() -> Substring {
        var end = endIndex
        while end > startIndex {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return self[startIndex..<end]
    }

    /// The 1-based column of `index` in this line, counted in Unicode scalars.
    func column(of index: Index) -> Int {
        unicodeScalars[startIndex..<index].count + 1
    }
}
