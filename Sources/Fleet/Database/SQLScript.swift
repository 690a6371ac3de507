/// A migration's SQL text cut into statements.
///
/// Why: postgres-nio speaks only the extended query protocol, in which one
/// message carries one statement; a migration is written as one readable
/// script. The cut is at a `;` outside a quoted string (`'…'`, `"…"`), a
/// dollar-quoted body (`$$…$$`, `$tag$…$tag$`: function bodies hold `;`) and
/// a comment (`-- …`, `/* … */`). Only the project's own migrations pass
/// through here; no value ever does.
enum SQLScript {
    /// The statements of `script`, trimmed, empty ones (and comments alone) left out.
    static func statements(_ script: String) -> [String] {
        let chars = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var index = 0
        func finish() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if hasCode, !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        func copy(until end: Int) {
            current.append(contentsOf: chars[index..<min(end, chars.count)])
            index = min(end, chars.count)
        }
        func find(_ needle: [Unicode.Scalar], from start: Int) -> Int? {
            guard !needle.isEmpty, start <= chars.count - needle.count else { return nil }
            var position = start
            while position <= chars.count - needle.count {
                if Array(chars[position..<position + needle.count]) == needle { return position }
                position += 1
            }
            return nil
        }
        while index < chars.count {
            let char = chars[index]
            let next: Unicode.Scalar? = index + 1 < chars.count ? chars[index + 1] : nil
            switch char {
            case "-" where next == "-":
                let end = chars[index...].firstIndex(of: "\n") ?? chars.count
                copy(until: end)
            case "/" where next == "*":
                let end = find(["*", "/"], from: index + 2).map { $0 + 2 } ?? chars.count
                copy(until: end)
            case "'", "\"":
                hasCode = true
                var position = index + 1
                while position < chars.count {
                    if chars[position] == char {
                        if position + 1 < chars.count, chars[position + 1] == char {
                            position += 2
                            continue
                        }
                        break
                    }
                    position += 1
                }
                copy(until: position + 1)
            case "$":
                hasCode = true
                var position = index + 1
                while position < chars.count, chars[position] == "_" || chars[position].properties.isAlphabetic {
                    position += 1
                }
                if position < chars.count, chars[position] == "$" {
                    let tag = Array(chars[index...position])
                    let end = find(tag, from: position + 1).map { $0 + tag.count } ?? chars.count
                    copy(until: end)
                } else {
                    copy(until: index + 1)
                }
            case ";":
                index += 1
                finish()
            default:
                if !char.properties.isWhitespace { hasCode = true }
                copy(until: index + 1)
            }
        }
        finish()
        return statements
    }
}
