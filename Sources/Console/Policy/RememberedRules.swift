import Apply
import FileAccess
import Foundation
import Queue
import Risk
import SystemPackage

/// "Approve and remember": a rule the host writes for the operator, scoped to
/// one bottle and exactly the hosts or routes one proposal added.
///
/// They go into `policy-remembered.toml` beside the settings file
/// (`~/.claude-bottle/policy-remembered.toml` by default), never into
/// host.toml: that file is the operator's, with their comments and layout,
/// and rewriting it from a program would lose both. The remembered file has
/// the same `[[policy.rule]]` format, is tried after host.toml's rules (so
/// the operator's `ask` and `reject` rules still come first), and may be
/// edited or deleted by hand; `policy check` reads both.
public enum RememberedRules {
    /// The file name beside the settings file.
    public static let fileName = "policy-remembered.toml"

    /// The remembered rules' file for the settings file `settings`.
    public static func path(besides settings: FilePath) -> FilePath {
        settings.removingLastComponent().appending(fileName)
    }

    /// The rule that would approve exactly what `proposal` adds to `current`,
    /// for its bottle only; an error when no rule may (a critical hint, a
    /// Dockerfile, a proposal that removes or changes something, or adds nothing).
    public static func rule(for proposal: Proposal, current: String?, grant: GrantDuration?) throws(PolicyProblem)
        -> PolicyRule
    {
        let hints = RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        if hints.contains(where: { $0.severity == .critical }) {
            throw PolicyProblem("it has a critical risk hint; no rule may decide such a proposal, so none is remembered")
        }
        var rule = PolicyRule(
            name: "remembered-\(proposal.bottle.rawValue.prefix(24))-\(proposal.id.rawValue.suffix(12))",
            origin: fileName)
        rule.action = .approve
        rule.bottles = [proposal.bottle.rawValue]
        rule.tools = [proposal.tool]
        rule.maxRisk = hints.highestSeverity ?? .notice
        rule.grant = grant
        switch ProposalChange.of(tool: proposal.tool, proposed: proposal.proposedFile, current: current) {
        case .allowlist(let added, let removed):
            guard removed.isEmpty, !added.isEmpty else {
                throw PolicyProblem("it does not only add hosts; a remembered rule names additions only")
            }
            rule.hosts = try added.map { host throws(PolicyProblem) in try HostPattern(host) }
        case .routes(let added, let removed, let other):
            guard removed.isEmpty, !other, !added.isEmpty else {
                throw PolicyProblem("it does not only add routes; a remembered rule names additions only")
            }
            rule.routes = added
        case .dockerfile:
            throw PolicyProblem(
                "a Dockerfile is decided by a rule only with capability = true, written by hand in host.toml (docs/policy.md)")
        case .unjudgeable(let why):
            throw PolicyProblem(why)
        }
        return rule
    }

    /// Appends `rule` to the remembered file beside `settings`, whole or not
    /// at all (a temporary file and a rename), after checking the result parses.
    public static func append(_ rule: PolicyRule, besides settings: FilePath, proposal: ProposalID, by who: String)
        throws(PolicyProblem)
    {
        let path = path(besides: settings)
        let existing = try HostPolicy.read(path) ?? "# Rules remembered by `approve --remember` (docs/policy.md). Edit or delete freely.\n"
        let text = existing + (existing.hasSuffix("\n") ? "" : "\n") + "\n" + render(rule, proposal: proposal, by: who)
        let parsed = try HostPolicy.parse(text, file: path.string, remembered: true)
        guard parsed.rules.contains(where: { $0.name == rule.name }) else {
            throw PolicyProblem("the remembered rule did not read back; nothing was written")
        }
        do {
            try AtomicFile.makeDirectory(path.removingLastComponent(), mode: 0o700)
            try AtomicFile.write(Data(text.utf8), to: path, mode: 0o600)
        } catch {
            throw PolicyProblem("cannot write \(path): \(error)")
        }
    }

    /// The rule as TOML.
    static func render(_ rule: PolicyRule, proposal: ProposalID, by who: String) -> String {
        var lines = [
            "# remembered by \(Escaped(who)) when approving \(proposal.rawValue) at \(Timestamp.format(Date()))",
            "[[policy.rule]]",
            "name = \(quote(rule.name))",
        ]
        if let bottles = rule.bottles { lines.append("bottles = [\(bottles.map(quote).joined(separator: ", "))]") }
        if let tools = rule.tools { lines.append("tool = [\(tools.map(\.rawValue).sorted().map(quote).joined(separator: ", "))]") }
        if let hosts = rule.hosts { lines.append("hosts = [\(hosts.map { quote($0.text) }.joined(separator: ", "))]") }
        if let routes = rule.routes { lines.append("routes = [\(routes.map { quote($0.description) }.joined(separator: ", "))]") }
        lines.append("max_risk = \(quote(rule.maxRisk.rawValue))")
        lines.append("action = \(quote(rule.action.rawValue))")
        if let grant = rule.grant { lines.append("for = \(quote(grant.description))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped
    /// (DEL too, which TOML forbids raw and JSON's escaping leaves alone).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
