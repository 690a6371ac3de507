import Apply
import ArgumentParser
import Queue

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

    @Flag(help: "Apply even though the bottle's file changed since the proposal was made.")
    var force = false

    @OptionGroup var grant: GrantOptions

    @OptionGroup var binding: ReviewBindingOptions

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "approve", engine: apply.containerEngine)
        locations.finishInterruptedApplies(command: "approve")
        let lookup = ProposalLookup(locations: locations, engine: apply.containerEngine)
        let (entry, queue) = try lookup.findForDecision(id, expectedSHA256: binding.expectSHA256?.hex)
        try lookup.requirePending(entry)
        let decision = try await lookup.deciding {
            try await lookup.applier.apply(
                decision: ProposalLookup.decision(on: entry, .approved, notes: notes),
                proposal: entry.proposal, queue: queue, force: force, grant: grant.request)
        }
        try lookup.report(decision, of: entry.proposal)
    }
}
