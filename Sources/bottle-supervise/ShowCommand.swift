import ArgumentParser
import Console
import Foundation
import Queue

/// `bottle-supervise show ID`: one proposal, as the operator reviews it.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one proposal: justification, summary and diff against the bottle's current file.")

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @OptionGroup var locations: HostLocationOptions

    func run() throws {
        let lookup = ProposalLookup(locations: locations)
        do {
            let (entry, _) = try lookup.find(id)
            print(Self.render(entry, currentFile: lookup.currentFile(for: entry.proposal), color: useColor()))
        } catch let failure as Failure {
            throw Failure.exit(failure, command: "show")
        }
    }

    static func render(_ entry: QueueEntry, currentFile: String?, color: Bool) -> String {
        let proposal = entry.proposal
        let state =
            entry.decision.map { "\($0.status.rawValue) by \(Escaped($0.decidedBy))" }
            ?? "pending; \(entry.attendance)"
        var lines = [
            "proposal  \(proposal.id)",
            "bottle    \(proposal.bottle)",
            "tool      \(proposal.tool.rawValue) → \(proposal.tool.configFile.fileName)",
            "created   \(Timestamp.format(proposal.createdAt))",
            "state     \(state)",
        ]
        if let decision = entry.decision {
            if !decision.notes.isEmpty { lines.append("notes     \(Escaped(decision.notes))") }
            if let apply = decision.apply {
                lines.append("apply     \(apply.state.rawValue): \(Escaped(apply.summary))")
            }
        }
        lines.append("")
        lines.append(color ? "\u{1B}[1mJustification\u{1B}[0m" : "Justification")
        lines += Escaped(proposal.justification, keepLayout: true).description.split(
            separator: "\n", omittingEmptySubsequences: false
        ).map { "  " + $0 }
        lines.append("")
        lines += ProposalReview(proposal: proposal, currentFile: currentFile).render(color: color)
        return lines.joined(separator: "\n")
    }
}
