/// The name of a fleet operator, as `operators add NAME` gave it: lower-case
/// letters, digits, `.`, `_` and `-`, 1 to 64 characters, starting and ending
/// with a letter or digit (the same rule as the table's CHECK).
///
/// Why so narrow: the name is what a decision's `decided_by` and the audit log
/// carry, and what a second operator reads as "already approved by NAME"; a
/// name with spaces, capitals or escape sequences could pass for another.
public struct FleetOperatorName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Why `text` is not an operator name, or `nil` when it is one.
    public static func problem(with text: String) -> String? {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return "an operator name has 1 to 64 characters" }
        func letterOrDigit(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        guard bytes.allSatisfy({ letterOrDigit($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }) else {
            return "an operator name has only lower-case letters, digits, '.', '_' and '-'"
        }
        guard letterOrDigit(bytes[0]), letterOrDigit(bytes[bytes.count - 1]) else {
            return "an operator name starts and ends with a letter or digit"
        }
        return nil
    }

    public init?(_ text: String) {
        guard Self.problem(with: text) == nil else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
