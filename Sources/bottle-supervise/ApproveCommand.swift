import Apply
import ArgumentParser
import Queue

/// `bottle-supervise approve ID`: approve as proposed, then apply.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Approve a proposal as proposed, write it into the bottle's config and reload.",
        discussion: """
            Exit status: 0 approved (the outcome of applying is printed); 1 failed (for example the bottle's \
            file changed since the proposal: review it, then --force); 3 no such proposal; 4 already decided, \
            withdrawn or expired.
            """
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Option(help: "Notes for the agent.")
    var notes: String = ""

    @Flag(help: "Apply even though the bottle's file changed since the proposal was made.")
    var force = false

    @OptionGroup var locations: HostLocationOptions

    func run() async throws {
        let lookup = ProposalLookup(locations: locations)
        do {
            let (entry, queue) = try lookup.find(id)
            try lookup.requirePending(entry)
            let decision = try await lookup.deciding {
                try await lookup.applier.apply(
                    decision: Decision(
                        id: entry.proposal.id, status: .approved, notes: notes, decidedBy: OperatorName.current),
                    proposal: entry.proposal, queue: queue, force: force)
            }
            ProposalLookup.report(decision, of: entry.proposal)
            if decision.apply?.state == .failed { throw ExitCode(1) }
        } catch let failure as Failure {
            throw Failure.exit(failure, command: "approve")
        }
    }
}
