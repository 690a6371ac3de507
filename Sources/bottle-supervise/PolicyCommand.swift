import ArgumentParser
import Console
import Fleet
import Foundation
import Queue
import Risk
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise policy`: the operator's standing rules (docs/policy.md).
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check the standing rules, or explain which would decide a proposal.",
        discussion: """
            Standing rules are [[policy.rule]] tables in the host settings file (and the rules `approve \
            --remember` wrote into policy-remembered.toml beside it); docs/policy.md describes them. Both \
            subcommands take --settings (default $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml); \
            explain also --queue-root ($SUPERVISE_QUEUE_ROOT) and --config-root ($SUPERVISE_CONFIG_ROOT).
            """,
        subcommands: [PolicyCheck.self, PolicyExplain.self]
    )
}

/// `bottle-supervise policy check [FILE]`: validate a settings file's rules and answers.
struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the standing rules and preset answers of a settings file.",
        discussion: """
            Reads FILE (default: --settings, $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml) and the \
            remembered rules beside it, and prints each rule in the order it is tried. Exit status: 0 valid; \
            1 not valid (the message names the file, the line and the key) — while it is not, no rule decides \
            anything and every proposal asks a human.
            """
    )

    @Argument(help: "The settings file to check (default: --settings, $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var file: String?

    @OptionGroup var policy: PolicyOptions

    func run() throws {
        let path = file.map { FilePath($0) } ?? policy.settingsPath
        if file != nil, !FileManager.default.fileExists(atPath: path.string) {
            throw Failure.failed("\(path) does not exist")
        }
        let loaded: HostPolicy
        do {
            loaded = try HostPolicy.load(settings: path)
        } catch {
            throw Failure.failed(Escaped(error.message).description)
        }
        print("\(path): \(loaded.rules.count) rule(s), \(loaded.answers.count) preset answer(s); valid")
        for (index, rule) in loaded.rules.enumerated() {
            print("  \(index + 1). \(PolicyExplain.describe(rule))")
        }
    }
}

/// `bottle-supervise policy explain ID`: which rule would decide a proposal, and why.
struct PolicyExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say which standing rule would decide a proposal, and why each earlier one would not.",
        discussion: """
            Decides nothing. Exit status: 0 explained (whatever the verdict); 1 the policy cannot be read \
            (then no rule decides anything); 3 no such proposal.
            """
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var locations: HostLocationOptions

    func run() throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // the verdict weighs the proposal against the bottle's current file
        let lookup = ProposalLookup(locations: locations)
        let (entry, _) = try lookup.find(id)
        let loaded = try policy.load()
        let proposal = entry.proposal
        print("proposal \(proposal.id) (\(proposal.tool.rawValue) for \(proposal.bottle))")
        if let decision = entry.decision {
            print("already \(decision.status.rawValue) by \(Escaped(decision.decidedBy)); as if it were pending:")
        }
        let verdict = PolicyEvaluator.evaluate(proposal, current: lookup.currentFile(for: proposal), policy: loaded)
        for (rule, reason) in verdict.passed {
            print("  \(Escaped(rule)): no — \(Escaped(reason))")
        }
        switch verdict.rule {
        case .some(let rule):
            print("  \(Escaped(rule.name)): yes — \(rule.action.rawValue)\(rule.grant.map { " for \($0)" } ?? "")")
            print("verdict: \(rule.action.rawValue) by policy:\(Escaped(rule.name)) (\(Escaped(rule.origin)))")
        case .none:
            print("verdict: ask — \(Escaped(verdict.reason))")
        }
        // What this host's relay mirrors for it: how many operators must approve it through the fleet.
        let current = lookup.currentFile(for: proposal)
        let hints = RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        let fleet = HostApprovalPolicy(settings: policy.settingsPath, logger: FleetDecision.quietLogger)
            .approvals(for: proposal, hints: hints, current: current)
        if fleet.required > 1 {
            let source = fleet.rule.map { "rule \($0)" } ?? "a critical risk hint, [fleet] approvals"
            print("through the fleet: needs \(fleet.required) approvals from distinct operators (\(source))")
        }
    }

    /// One line describing a rule, as `check` lists them.
    static func describe(_ rule: PolicyRule) -> String {
        var parts = ["\(rule.name) (\(rule.origin)): \(rule.action.rawValue)"]
        if let grant = rule.grant { parts.append("for \(grant)") }
        if let bottles = rule.bottles { parts.append("bottles \(bottles.joined(separator: ", "))") }
        if let tools = rule.tools { parts.append("tool \(tools.map(\.rawValue).sorted().joined(separator: ", "))") }
        if let hosts = rule.hosts { parts.append("hosts \(hosts.map(\.text).joined(separator: ", "))") }
        if let upstreams = rule.upstreams { parts.append("upstreams \(upstreams.map(\.text).joined(separator: ", "))") }
        if let credentials = rule.credentials { parts.append("credentials \(credentials.sorted().joined(separator: ", "))") }
        if let methods = rule.methods { parts.append("methods \(methods.sorted().joined(separator: ", "))") }
        if let routes = rule.routes { parts.append("\(routes.count) exact route(s)") }
        if rule.allowHTTP { parts.append("allow_http") }
        if rule.capability { parts.append("capability") }
        parts.append("max_risk \(rule.maxRisk.rawValue)")
        if let answer = rule.answer { parts.append("answer \(answer)") }
        if let approvals = rule.approvals { parts.append("\(approvals) approvals through the fleet") }
        return Escaped(parts.joined(separator: "; ")).description
    }
}
