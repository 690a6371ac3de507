import Queue
import Risk

/// Risk hints as the operator reads them, the same in `show`, the console's
/// review and `list`: severity first, then the line, then the reason.
///
/// The reason may quote the proposal (a host, an image name), so it is
/// escaped here like all agent text.
public enum RiskHintLines {
    /// The hints as indented lines under a "Risk hints" heading, coloured if
    /// asked; one line saying none were found when there are none.
    public static func render(_ hints: [RiskHint], color: Bool) -> [String] {
        func paint(_ code: String, _ text: String) -> String { color ? code + text + "\u{1B}[0m" : text }
        guard !hints.isEmpty else {
            return [paint("\u{1B}[1m", "Risk hints") + " none (hints inform; none found does not make a change safe)"]
        }
        var lines = [paint("\u{1B}[1m", "Risk hints")]
        for hint in hints {
            let label = TextLayout.pad(hint.severity.rawValue.uppercased(), 9)
            let place = hint.line.map { "line \($0): " } ?? ""
            lines.append("  " + paint(code(hint.severity), label) + place + Escaped(hint.reason).description)
        }
        return lines
    }

    /// The `list` column: the highest severity, or `-` for none.
    public static func column(_ hints: [RiskHint]) -> String {
        hints.highestSeverity?.rawValue ?? "-"
    }

    private static func code(_ severity: RiskSeverity) -> String {
        switch severity {
        case .critical: "\u{1B}[1;31m"
        case .warning: "\u{1B}[33m"
        case .notice: "\u{1B}[2m"
        }
    }
}
