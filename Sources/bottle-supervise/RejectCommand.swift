import Apply
import ArgumentParser
import Fleet
import Queue
import SidecarCommandLine

/// `bottle-supervise reject ID --notes T`: refuse a proposal, telling the agent why.
struct Reject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reject a proposal; the notes (or a preset answer) tell the agent why (required).",
        discussion: """
            Give --notes, or --answer NAME for a preset answer from [answers] in the settings file (its text \
            is the notes, and the agent also gets NAME as `answer`), or both. \
            Exit status: 0 rejected; 1 no such preset answer; 2 neither notes nor an answer; 3 no such proposal; 4 already decided, withdrawn or expired; \
            5 the proposal file is not the one reviewed (--expect-sha256, or it was replaced in the queue).
            """
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Option(help: "Why, for the agent (required unless --answer is given).")
    var notes: String = ""

    @Option(help: "A preset answer from [answers] in the settings file: its text is the notes, its name reaches the agent.")
    var answer: String?

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var binding: ReviewBindingOptions

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var fleet: FleetDatabaseOptions

    @OptionGroup var fleetHost: FleetHostOption

    @OptionGroup var fleetWait: FleetWaitOption

    func validate() throws {
        try PolicyOptions.validate(answer: answer)
        try FleetDecision.validate(database: fleet.database, host: fleetHost.host != nil, hostOnly: [:])
        guard !notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || answer != nil else {
            throw ArgumentParser.ValidationError("a rejection needs --notes or --answer: tell the agent why")
        }
    }

    func run() async throws {
        if let database = try fleet.settings() {
            try await FleetDecision(database: database, host: fleetHost.host?.name, wait: .seconds(fleetWait.wait)).decide(
                id, .init(status: .rejected, notes: try policy.notes(answer: answer, notes: notes), answer: answer),
                expectedSHA256: binding.expectSHA256?.hex)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // the audit record names the bottle's current file's hash
        await locations.endOverdueGrants(command: "reject")
        locations.finishInterruptedApplies(command: "reject")
        let lookup = ProposalLookup(locations: locations)
        let (entry, queue) = try lookup.findForDecision(id, expectedSHA256: binding.expectSHA256?.hex)
        try lookup.requirePending(entry)
        let notes = try policy.notes(answer: answer, notes: notes)
        let decision = ProposalLookup.decision(on: entry, .rejected, notes: notes, answer: answer)
        try await lookup.deciding { try lookup.applier.record(decision, of: entry.proposal, queue: queue) }
        try lookup.report(decision, of: entry.proposal)
    }
}
