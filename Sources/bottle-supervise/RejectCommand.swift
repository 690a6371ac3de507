import Apply
import ArgumentParser
import Queue

/// `bottle-supervise reject ID --notes T`: refuse a proposal, telling the agent why.
struct Reject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reject a proposal; the notes tell the agent why (required).",
        discussion: "Exit status: 0 rejected; 2 no notes; 3 no such proposal; 4 already decided, withdrawn or expired."
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Option(help: "Why, for the agent (required).")
    var notes: String

    @OptionGroup var locations: HostLocationOptions

    func validate() throws {
        guard !notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ArgumentParser.ValidationError("a rejection needs --notes: tell the agent why")
        }
    }

    func run() throws {
        let lookup = ProposalLookup(locations: locations)
        do {
            let (entry, queue) = try lookup.find(id)
            try lookup.requirePending(entry)
            let decision = Decision(
                id: entry.proposal.id, status: .rejected, notes: notes, decidedBy: OperatorName.current)
            do {
                try lookup.applier.record(decision, of: entry.proposal, queue: queue)
            } catch let error as QueueError {
                if case .alreadyDecided(let id, let status) = error {
                    throw Failure.alreadyDecided(
                        "proposal \(id) is already \(status.rawValue): another decision won; nothing was changed")
                }
                throw Failure.failed(error.description)
            }
            ProposalLookup.report(decision, of: entry.proposal)
        } catch let failure as Failure {
            throw Failure.exit(failure, command: "reject")
        }
    }
}
