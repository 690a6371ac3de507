import Queue

/// Risk rules for a pipelock allowlist (`pipelock-block`): how far the hosts
/// a proposal adds open the bottle's egress.
///
/// Rules (docs/risk-hints.md): `wildcard-public-suffix`, `wildcard`,
/// `many-hosts`, and the host rules of ``HostRisks`` (`ip-address`,
/// `private-address`, `internal-name`, `exfiltration-host`,
/// `unreadable-host`), judged on each host's canonical reading.
enum AllowlistRisks {
    /// More hosts than this added at once is worth a look on its own.
    static let manyHostsThreshold = 10

    static func assess(proposed: String, current: String?, suffixes: PublicSuffixList = .shipped) -> [RiskHint] {
        guard let document = try? AllowlistDocument.parse(proposed) else { return [] }
        let existing = Set(((current.flatMap { try? AllowlistDocument.parse($0) })?.hosts ?? []).map(\.normalizedName))
        let added = document.hosts.filter { !existing.contains($0.normalizedName) }
        var hints: [RiskHint] = []
        for host in added {
            hints += hostHints(host, suffixes: suffixes)
        }
        if added.count > manyHostsThreshold {
            hints.append(
                RiskHint(
                    .warning, "many-hosts",
                    "\(added.count) hosts added at once; check each is needed (more than \(manyHostsThreshold) is unusual for one task)",
                    line: added.first?.line))
        }
        return hints
    }

    private static func hostHints(_ host: AllowlistHost, suffixes: PublicSuffixList) -> [RiskHint] {
        let name = host.normalizedName
        var hints = HostRisks.hints(
            written: host.isWildcard ? String(host.name.dropFirst(2)) : host.name, wildcard: host.isWildcard, line: host.line)
        if host.isWildcard {
            let parent = String(name.dropFirst(2))
            if suffixes.isPublicSuffix(parent) {
                hints.append(
                    RiskHint(
                        .critical, "wildcard-public-suffix",
                        "\(host.name) allows every site registered under the public suffix \(parent), whoever owns it",
                        line: host.line))
            } else if suffixes.registrableDomain(of: parent) == parent {
                hints.append(
                    RiskHint(
                        .warning, "wildcard",
                        "\(host.name) allows every subdomain of \(parent), including ones created later",
                        line: host.line))
            } else {
                hints.append(
                    RiskHint(
                        .notice, "wildcard", "\(host.name) allows every name under \(parent)", line: host.line))
            }
        }
        return hints
    }
}
