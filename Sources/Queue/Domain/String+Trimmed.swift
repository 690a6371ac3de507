extension StringProtocol {
    /// The text without the white space (spaces, tabs, line breaks, any
    /// Unicode white space) at either end: what Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives, without
    /// Foundation (the sidecar's modules import FoundationEssentials only).
    public func trimmed() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
