/// A key the operator pressed, decoded from the terminal's bytes.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter
    case escape
    case backspace
    case tab
    case up, down, left, right
    case pageUp, pageDown, home, end
    case control(Character)  // Ctrl-<letter>, lowercase

    /// Decodes every complete key in `bytes`; an incomplete trailing sequence is left in `bytes`.
    ///
    /// A lone ESC is the Escape key only when nothing follows it in the same
    /// read; the terminal sends an arrow's `ESC [ A` in one write.
    public static func decode(_ bytes: inout [UInt8]) -> [Key] {
        var keys: [Key] = []
        var index = 0
        func take(_ count: Int, _ key: Key) {
            keys.append(key)
            index += count
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x1B:
                guard index + 1 < bytes.count else {
                    take(1, .escape)
                    continue
                }
                let next = bytes[index + 1]
                guard next == UInt8(ascii: "[") || next == UInt8(ascii: "O") else {
                    take(1, .escape)
                    continue
                }
                // CSI or SS3: parameters, then a final byte in 0x40...0x7E.
                var end = index + 2
                while end < bytes.count, !(0x40...0x7E).contains(bytes[end]) { end += 1 }
                guard end < bytes.count else {
                    bytes.removeFirst(index)
                    return keys
                }
                let parameters = String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
                let key: Key? =
                    switch (bytes[end], parameters) {
                    case (UInt8(ascii: "A"), _): .up
                    case (UInt8(ascii: "B"), _): .down
                    case (UInt8(ascii: "C"), _): .right
                    case (UInt8(ascii: "D"), _): .left
                    case (UInt8(ascii: "H"), _), (UInt8(ascii: "~"), "1"), (UInt8(ascii: "~"), "7"): .home
                    case (UInt8(ascii: "F"), _), (UInt8(ascii: "~"), "4"), (UInt8(ascii: "~"), "8"): .end
                    case (UInt8(ascii: "~"), "5"): .pageUp
                    case (UInt8(ascii: "~"), "6"): .pageDown
                    default: nil
                    }
                if let key { keys.append(key) }
                index = end + 1
            case 0x0D, 0x0A: take(1, .enter)
            case 0x7F, 0x08: take(1, .backspace)
            case 0x09: take(1, .tab)
            case 0x01...0x1A: take(1, .control(Character(Unicode.Scalar(byte + 0x60))))
            case 0x00...0x1F: index += 1
            default:
                // One UTF-8 character: its length comes from the lead byte.
                let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                guard index + length <= bytes.count else {
                    bytes.removeFirst(index)
                    return keys
                }
                let text = String(decoding: bytes[index..<(index + length)], as: UTF8.self)
                if let character = text.first { keys.append(.character(character)) }
                index += length
            }
        }
        bytes.removeAll()
        return keys
    }
}
