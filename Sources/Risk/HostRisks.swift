import Queue

/// The risk rules for one host, shared by the allowlist and the routes:
/// run on the host's canonical reading (``CanonicalHost``), never on its
/// spelling, so `0x7f.1`, `[::ffff:a9fe:a9fe]`, `ｌｏｃａｌｈｏｓｔ` or
/// `pastebin.com.` get the hint `127.0.0.1`, `169.254.169.254`,
/// `localhost` and `pastebin.com` get.
///
/// Rules (docs/risk-hints.md): `unreadable-host`, `exfiltration-host`,
/// `private-address`, `ip-address`, `internal-name`.
enum HostRisks {
    /// The hints for `written` (as the proposal spells it, `*.` removed for
    /// a wildcard) at `line`. `subject` opens each reason ("the upstream").
    static func hints(written: String, wildcard: Bool, line: Int?, subject: String = "") -> [RiskHint] {
        let shown = (wildcard ? "*." : "") + written
        let canonical: CanonicalHost
        switch CanonicalHost.parse(written) {
        case .success(let host): canonical = host
        case .failure(let refusal):
            return [
                RiskHint(
                    .critical, "unreadable-host",
                    "\(subject)\(shown) cannot be read as one host: \(refusal.reason); programs may disagree about where it goes",
                    line: line)
            ]
        }
        // Say what it is read as when that differs from what is written.
        var named = subject + shown
        if canonical.text != written.lowercased() {
            named += " (read as \(wildcard ? "*." : "")\(canonical.text)\(canonical.zone.map { "%" + $0 } ?? ""))"
        }
        var hints: [RiskHint] = []
        if let service = ExfiltrationHosts.match(canonical.text) {
            hints.append(
                RiskHint(
                    .critical, "exfiltration-host",
                    "\(named) is \(service.kind) (\(service.domain)): a ready place to send data out of the bottle",
                    line: line))
        }
        if let address = IPAddressLiteral(canonical) {
            if let range = address.specialRange {
                hints.append(
                    RiskHint(
                        .critical, "private-address",
                        "\(named) is \(range): it reaches the host's own network, not the internet", line: line))
            } else if canonical.zone != nil {
                hints.append(
                    RiskHint(
                        .critical, "private-address",
                        "\(named) names a network interface of the host (zone \(canonical.zone!))", line: line))
            } else {
                hints.append(
                    RiskHint(
                        .warning, "ip-address",
                        "\(named) is an IP address: whoever holds it can change, and no name says whose it is",
                        line: line))
            }
        } else if let finding = InternalNames.classify(canonical.text, wildcard: wildcard) {
            hints.append(RiskHint(finding.severity, finding.rule, "\(named) \(finding.reason)", line: line))
        }
        return hints
    }
}
