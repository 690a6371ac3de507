/// How long an approval holds, written as an operator writes it: `90s`,
/// `30m`, `8h`, `2d` — a whole number and one unit, nothing else.
///
/// A standing rule's `for` is parsed here so `policy check` refuses a
/// malformed one before any proposal arrives; the decision carries it as a
/// `Duration` to the grants ledger, which time-boxes the approval.
public struct GrantDuration: Sendable, Hashable, CustomStringConvertible {
    /// The length.
    public let duration: Duration
    /// The text as written (`8h`), for messages and for writing back.
    public let text: String

    /// The longest grant a rule may give: a year. Past that, write no `for`
    /// (the approval is then permanent, as the operator can see).
    public static let maximumSeconds: Int64 = 366 * 86_400

    /// Parses `text`; `nil` when it is not a whole number of `s`, `m`, `h` or `d`
    /// from 1 second up to ``maximumSeconds``.
    public init?(_ text: String) {
        guard let unit = text.last, text.count >= 2 else { return nil }
        let digits = text.dropLast()
        // Digits only: no sign, no spaces, no fractions, no "1h30m".
        guard digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(digits),
            count > 0
        else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        let seconds = count * scale
        guard seconds <= Self.maximumSeconds else { return nil }
        self.duration = .seconds(seconds)
        self.text = text
    }

    public var description: String { text }

    /// What a malformed value should look like, for messages.
    public static let expected = "a whole number and a unit: 90s, 30m, 8h or 2d (at most 366d)"
}
