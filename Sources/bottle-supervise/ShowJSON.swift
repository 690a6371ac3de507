import Console
import Foundation
import Queue
import SystemPackage

/// The `show --json` document: `list --json`'s fields for the one proposal, plus the files
/// themselves, for scripts (fields in docs/console.md).
enum ShowJSON {
    struct Document: Encodable {
        let format = 1
        /// As one element of `list --json`'s `proposals` (risk hints as `show` weighs them).
        let proposal: ListJSON.Item
        /// The agent's proposed file.
        let proposedFile: String
        /// What the decision let through (the operator's version after `modify`); null while pending or refused.
        let finalFile: String?
        /// The bottle's current file (null: none).
        let currentFile: String?
        /// The apply step's one-line outcome; null before any.
        let applySummary: String?

        enum CodingKeys: String, CodingKey {
            case format, proposal
            case proposedFile = "proposed_file"
            case finalFile = "final_file"
            case currentFile = "current_file"
            case applySummary = "apply_summary"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(format, forKey: .format)
            try container.encode(proposal, forKey: .proposal)
            try container.encode(proposedFile, forKey: .proposedFile)
            try container.encode(finalFile, forKey: .finalFile)
            try container.encode(currentFile, forKey: .currentFile)
            try container.encode(applySummary, forKey: .applySummary)
        }
    }

    static func render(_ entry: QueueEntry, currentFile: String?, configRoot: FilePath) -> String {
        let proposal = entry.proposal
        let hints =
            entry.decision.map { DecisionReview(proposal: proposal, decision: $0, configRoot: configRoot).riskHints }
            ?? ProposalReview(proposal: proposal, currentFile: currentFile).riskHints
        let row = ListedProposal(entry, riskHints: hints)
        let document = Document(
            proposal: ListJSON.item(row), proposedFile: proposal.proposedFile,
            finalFile: entry.decision.flatMap { $0.approvedFile(of: proposal) }, currentFile: currentFile,
            applySummary: entry.decision?.apply?.summary)
        return ListJSON.encode(document)
    }
}
