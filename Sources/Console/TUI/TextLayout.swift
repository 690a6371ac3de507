/// Fitting text into terminal columns.
///
/// Widths are counted in terminal cells: East Asian wide characters and
/// emoji take two, combining marks none, and the console's own colour
/// sequences (`ESC [ … m`) none. Agent text reaches these functions already
/// escaped, so any ESC they see is one the console wrote.
public enum TextLayout {
    /// The number of cells `text` occupies.
    public static func width(_ text: String) -> Int {
        if let width = printableASCIIWidth(text) { return width }
        var total = 0
        var inSequence = false
        for scalar in text.unicodeScalars {
            if inSequence {
                if (0x40...0x7E).contains(scalar.value), scalar != "[" { inSequence = false }
                continue
            }
            if scalar == "\u{1B}" {
                inSequence = true
                continue
            }
            total += cells(scalar)
        }
        return total
    }

    /// `text` cut to at most `columns` cells (with `…` when cut), colour sequences kept and reset at the cut.
    public static func fit(_ text: String, _ columns: Int) -> String {
        guard columns > 0 else { return "" }
        if let width = printableASCIIWidth(text), width <= columns { return text }
        guard width(text) > columns else { return text }
        var out = ""
        var used = 0
        var inSequence = false
        for scalar in text.unicodeScalars {
            if inSequence {
                out.unicodeScalars.append(scalar)
                if (0x40...0x7E).contains(scalar.value), scalar != "[" { inSequence = false }
                continue
            }
            if scalar == "\u{1B}" {
                inSequence = true
                out.unicodeScalars.append(scalar)
                continue
            }
            let size = cells(scalar)
            if used + size > columns - 1 { break }
            out.unicodeScalars.append(scalar)
            used += size
        }
        return out + "…" + (text.utf8.contains(0x1B) ? ANSI.reset : "")
    }

    /// `text` cut or padded with spaces to exactly `columns` cells.
    public static func pad(_ text: String, _ columns: Int) -> String {
        if let width = printableASCIIWidth(text), width <= columns {
            return text + String(repeating: " ", count: columns - width)
        }
        let fitted = fit(text, columns)
        return fitted + String(repeating: " ", count: max(0, columns - width(fitted)))
    }

    /// Appends ``pad(_:_:)`` of `text` to `out` without building it first:
    /// `list` pads seven fields per row, for ten thousand rows.
    public static func appendPadded(_ text: String, _ columns: Int, to out: inout String) {
        if let width = printableASCIIWidth(text), width <= columns {
            out += text
            var missing = columns - width
            while missing > 0 {
                let step = min(missing, spaces.utf8.count)
                out += spaces.utf8.count == step ? spaces : String(spaces.prefix(step))
                missing -= step
            }
        } else {
            out += pad(text, columns)
        }
    }

    private static let spaces = String(repeating: " ", count: 32)

    /// `text` broken into lines of at most `columns` cells (hard wrap; for long justifications).
    public static func wrap(_ text: String, _ columns: Int) -> [String] {
        guard columns > 1 else { return [text] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            var used = 0
            for scalar in paragraph.unicodeScalars {
                let size = cells(scalar)
                if used + size > columns {
                    lines.append(line)
                    line = ""
                    used = 0
                }
                line.unicodeScalars.append(scalar)
                used += size
            }
            lines.append(line)
        }
        return lines
    }

    /// The width of `text` when it is printable ASCII only (one cell per
    /// byte, no escape sequence); `nil` otherwise. Ids, slugs, tool names
    /// and ages are: `list` pads seven cells per row, ten thousand rows at
    /// fleet scale, and this answers without decoding a scalar.
    static func printableASCIIWidth(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes in
            for byte in bytes where byte &- 0x20 >= 0x5F { return nil }
            return bytes.count
        }
    }

    static func cells(_ scalar: Unicode.Scalar) -> Int {
        switch scalar.value {
        case 0x0300...0x036F, 0x200B...0x200F, 0xFE00...0xFE0F: 0
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            2
        default: 1
        }
    }
}
