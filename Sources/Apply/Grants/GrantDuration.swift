import Foundation

/// How long a time-boxed grant lasts, as the operator writes it: a whole
/// number and one unit — `90s`, `30m`, `8h`, `2d`.
///
/// One unit per value and no fractions, so what the operator typed, what the
/// ledger records and what `grants` prints read the same. Bounded to 365 days:
/// a grant longer than a year is an approval, and should be one.
public struct GrantDuration: Sendable, Equatable, Comparable, Hashable, CustomStringConvertible {
    /// The length in whole seconds.
    public let seconds: Int64

    /// The longest duration accepted: 365 days.
    public static let maximumSeconds: Int64 = 365 * 86_400

    /// A duration of `seconds` (positive, at most ``maximumSeconds``).
    public init?(seconds: Int64) {
        guard seconds > 0, seconds <= Self.maximumSeconds else { return nil }
        self.seconds = seconds
    }

    /// Why `text` is not a duration, worded for the operator.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The value as given.
        public let text: String
        /// What is wrong with it.
        public let reason: String
        public var description: String {
            "\(Self.quoted(text)) is not a duration: \(reason); write a whole number and one unit: "
                + "90s, 30m, 8h or 2d"
        }
        private static func quoted(_ text: String) -> String {
            "'" + String(text.unicodeScalars.prefix(40).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }) + "'"
        }
    }

    /// Parses `90s`, `30m`, `8h`, `2d`.
    public static func parse(_ text: String) throws(ParseError) -> GrantDuration {
        let bytes = Array(text.utf8)
        guard let unit = bytes.last, bytes.count >= 2 else {
            throw ParseError(text: text, reason: "it needs a number and a unit")
        }
        let multiplier: Int64
        switch unit {
        case UInt8(ascii: "s"): multiplier = 1
        case UInt8(ascii: "m"): multiplier = 60
        case UInt8(ascii: "h"): multiplier = 3_600
        case UInt8(ascii: "d"): multiplier = 86_400
        default: throw ParseError(text: text, reason: "the unit must be s, m, h or d")
        }
        let digits = bytes.dropLast()
        guard digits.count <= 9, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw ParseError(text: text, reason: "the number must be whole digits (at most 9)")
        }
        let number = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        guard number > 0 else { throw ParseError(text: text, reason: "it must be longer than zero") }
        guard let duration = GrantDuration(seconds: number * multiplier) else {
            throw ParseError(text: text, reason: "the longest grant is 365d")
        }
        return duration
    }

    /// The shortest exact spelling: `2d`, `8h`, `90m`, `45s`.
    public var description: String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// The length as a time interval.
    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    public static func < (lhs: GrantDuration, rhs: GrantDuration) -> Bool { lhs.seconds < rhs.seconds }

    /// Time left until `deadline` at `now`, rounded to what a person reads:
    /// `1h 05m`, `4m 10s`, `12s`; `overdue` once it has passed — for a grant
    /// still live then, whose end is late (its end failed, or no `watch` ran yet).
    public static func left(until deadline: Date, now: Date) -> String {
        let total = Int64((deadline.timeIntervalSince(now)).rounded(.up))
        guard total > 0 else { return "overdue" }
        let days = total / 86_400, hours = (total % 86_400) / 3_600, minutes = (total % 3_600) / 60,
            seconds = total % 60
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if days > 0 { return "\(days)d \(two(hours))h" }
        if hours > 0 { return "\(hours)h \(two(minutes))m" }
        if minutes > 0 { return "\(minutes)m \(two(seconds))s" }
        return "\(seconds)s"
    }
}
