import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Queue
import SidecarCommandLine

/// `bottle-supervise approve ID`: approve as proposed, then apply.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Approve a proposal as proposed, write it into the bottle's config and reload.",
        discussion: """
            Exit status: 0 approved (the outcome of applying is printed); 1 failed (for example the bottle's \
            file changed since the proposal: review it, then --force; or the proposal does not validate); \
            3 no such proposal; 4 already decided, withdrawn or expired; 5 the proposal file is not the one \
            reviewed (--expect-sha256, or it was replaced in the queue): nothing was written.
            """
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Option(help: "Notes for the agent.")
    var notes: String = ""

    @Option(help: "A preset answer from [answers] in the settings file: its text is the notes, its name reaches the agent.")
    var answer: String?

    @Flag(
        help: "Also add a standing rule that approves exactly these hosts or routes for this bottle from now on (into policy-remembered.toml beside the settings file)."
    )
    var remember = false

    @Flag(help: "Apply even though the bottle's file changed since the proposal was made.")
    var force = false

    @OptionGroup var grant: GrantOptions

    @OptionGroup var binding: ReviewBindingOptions

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var fleet: FleetDatabaseOptions

    @OptionGroup var fleetHost: FleetHostOption

    @OptionGroup var fleetWait: FleetWaitOption

    func validate() throws {
        try PolicyOptions.validate(answer: answer)
        try FleetDecision.validate(
            database: fleet.database, host: fleetHost.host != nil,
            hostOnly: ["--remember": remember, "--force": force, "--for": grant.duration != nil])
    }

    func run() async throws {
        if let database = try fleet.settings() {
            var decision = FleetDecision(database: database, host: fleetHost.host?.name, wait: .seconds(fleetWait.wait))
            decision.threshold = try FleetDecision.thresholdSetting(at: policy.settingsPath)
            try await decision.decide(
                id, .init(status: .approved, notes: try policy.notes(answer: answer, notes: notes), answer: answer),
                expectedSHA256: binding.expectSHA256?.hex)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "approve", engine: apply.containerEngine)
        locations.finishInterruptedApplies(command: "approve")
        let lookup = ProposalLookup(locations: locations, engine: apply.containerEngine)
        let (entry, queue) = try lookup.findForDecision(id, expectedSHA256: binding.expectSHA256?.hex)
        try lookup.requirePending(entry)
        let notes = try policy.notes(answer: answer, notes: notes)
        // The rule is made (and refused, with the reason) before anything is decided.
        let remembered = try remember ? rememberedRule(for: entry.proposal, lookup: lookup) : nil
        let decision = try await lookup.deciding {
            try await lookup.applier.apply(
                decision: ProposalLookup.decision(on: entry, .approved, notes: notes, answer: answer),
                proposal: entry.proposal, queue: queue, force: force, grant: grant.request)
        }
        if let remembered, decision.apply?.state != .failed {
            do {
                try RememberedRules.append(
                    remembered, besides: policy.settingsPath, proposal: entry.proposal.id, by: OperatorName.current)
                print("remembered as rule \(remembered.name) in \(RememberedRules.path(besides: policy.settingsPath))")
            } catch {
                FileHandle.standardError.write(
                    Data("bottle-supervise approve: approved, but not remembered: \(Escaped(error.message))\n".utf8))
            }
        }
        try lookup.report(decision, of: entry.proposal)
    }

    /// The rule `--remember` adds, or a failure (1) saying why none may be.
    private func rememberedRule(for proposal: Proposal, lookup: ProposalLookup) throws -> PolicyRule {
        // The policy must read: a rule added to a broken one would never run.
        _ = try policy.load()
        do {
            // `--remember --for 1h`: the rule grants each later approval for that long too.
            let lasting: GrantDuration? = if case .lasting(let duration) = grant.request { duration } else { nil }
            return try RememberedRules.rule(for: proposal, current: lookup.currentFile(for: proposal), grant: lasting)
        } catch {
            throw Failure.failed("--remember: \(error.message); nothing was decided")
        }
    }
}
