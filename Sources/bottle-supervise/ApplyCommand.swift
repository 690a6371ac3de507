import Apply
import ArgumentParser
import Queue
import SidecarCommandLine

/// `bottle-supervise apply ID`: run the apply of an approved, not applied decision again.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply an approved proposal again after its apply failed (\"approved, not applied\").",
        discussion: """
            When the reload failed after an approval (the container was down, supervise.toml had a typo), \
            the previous file was put back and the decision says "approved, not applied". Once the cause is \
            fixed, `apply ID` writes the approved file and runs the reload again, with the same checks as \
            approve: the bottle's file must still be the one put back (else review it, then --force). The \
            decision stays as taken; the new outcome replaces the old one, is recorded in the audit log under \
            your name, and is what the agent reads the next time it asks (proposal-status). A time-boxed \
            approval stays time-boxed: its grant is recorded again, ending when the decision says; once that \
            time has passed, the re-run is refused (ask the agent to propose again, and approve that).
            Exit status: 0 applied; 1 the apply failed again or could not start; 3 no such proposal; \
            4 not an approval, applied already, an apply of it is running, or its time-boxed approval has \
            ended; 5 the proposal file is not the one approved.
            """
    )

    @Argument(help: "The proposal id (from `list --all`).")
    var id: String

    @Flag(help: "Apply even though the bottle's file changed since the failed apply put it back.")
    var force = false

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        locations.finishInterruptedApplies(command: "apply")
        let lookup = ProposalLookup(locations: locations, engine: apply.containerEngine)
        let (entry, queue) = try lookup.find(id)
        let decision: Decision
        do {
            decision = try await lookup.deciding {
                try await lookup.applier.reapply(
                    entry.proposal.id, proposal: entry.proposal, proposalSHA256: entry.proposalSHA256, queue: queue,
                    operatorName: OperatorName.current, force: force)
            }
        } catch let refusal as ReapplyRefusal {
            throw Failure.alreadyDecided(refusal.description)
        }
        try lookup.report(decision, of: entry.proposal)
    }
}
