import Apply
import FileAccess
import Foundation
import Queue
import Risk
import SystemPackage

/// What a decided proposal did, for `show` and the console's detail view.
///
/// Once a proposal is decided, the bottle's current file is no longer the
/// thing to compare with: after an approval it *is* the approved file (a
/// diff against it is empty, and its hash differs from the one the proposal
/// was made against), and after a modify the agent's version would show the
/// operator's own changes backwards. So a decided proposal is shown as what
/// was decided and applied: the final file (the agent's, or the operator's
/// version) against the file it replaced, found by the hash the apply
/// recorded — the bottle's current file if it still has that hash (a failed
/// apply put it back), else the saved copy in the bottle's history
/// (``ConfigHistory``). A rejected, withdrawn or expired one shows the
/// proposal against the file it was made against, and what the decision said.
/// Nothing is offered to decide.
public struct DecisionReview: Sendable {
    /// The proposal.
    public let proposal: Proposal
    /// Its decision.
    public let decision: Decision
    /// The file the final file replaced (or, when nothing was applied, the
    /// one the proposal was made against).
    public let base: Base

    /// The old side of the diff.
    public enum Base: Sendable, Equatable {
        /// Its content (`nil`: the bottle had no such file).
        case file(String?)
        /// Only its hash is known: neither the bottle nor the history holds it now.
        case gone(sha256: String)
    }

    /// Whether the bottle's file is no longer the one this decision applied:
    /// a later approval or a rollback replaced it. What is shown is then
    /// history, not what is in effect, and the review says so.
    public let replacedSince: Bool

    /// A review of `decision` on `proposal`, with the replaced file as given.
    public init(proposal: Proposal, decision: Decision, base: Base, replacedSince: Bool = false) {
        self.proposal = proposal
        self.decision = decision
        self.base = base
        self.replacedSince = replacedSince
    }

    /// A review of `decision` on `proposal`, finding the replaced file under `configRoot`.
    public init(proposal: Proposal, decision: Decision, configRoot: FilePath) {
        let root = ConfigRoot(configRoot)
        let file = proposal.tool.configFile
        let wanted = Self.baseSHA256(proposal: proposal, decision: decision)
        let current = try? AtomicFile.read(root.path(of: file, for: proposal.bottle))
        var replacedSince = false
        if decision.status.isApproval, let apply = decision.apply, apply.state == .applied,
            let written = apply.newSHA256
        {
            // The file the apply wrote, hashed as it recorded: anything else in its place came later.
            // (An outcome that recorded no hash proves nothing either way.)
            replacedSince = current.map(SHA256Hex.of) != written
        }
        guard let wanted else {
            self.init(proposal: proposal, decision: decision, base: .file(nil), replacedSince: replacedSince)
            return
        }
        let base: Base
        if let current, SHA256Hex.of(current) == wanted {
            base = .file(String(decoding: current, as: UTF8.self))
        } else if let saved = try? root.history(of: file, for: proposal.bottle).version(withSHA256: wanted),
            let content = saved.content
        {
            base = .file(String(decoding: content, as: UTF8.self))
        } else {
            base = .gone(sha256: wanted)
        }
        self.init(proposal: proposal, decision: decision, base: base, replacedSince: replacedSince)
    }

    /// The hash of the old side: what the apply recorded it replaced, else
    /// what the proposal was made against (`nil`: there was no file).
    static func baseSHA256(proposal: Proposal, decision: Decision) -> String? {
        if decision.status.isApproval, let apply = decision.apply, apply.state == .applied {
            return apply.previousSHA256
        }
        return proposal.currentFileSHA256
    }

    /// The new side: the file the decision let through, or for a refusal the proposed one.
    public var finalFile: String {
        decision.approvedFile(of: proposal) ?? proposal.proposedFile
    }

    /// What the decided change could grant, most severe first: the final file against the file it
    /// replaced (or was made against), as ``render(color:)`` shows them; against no file when that
    /// one is gone. `list --all` and `show --json` report these, so every view of a decided proposal
    /// weighs it the same (the bottle's current file *is* the approved one after an approval).
    public var riskHints: [RiskHint] {
        switch base {
        case .file(let old): RiskHints.assess(tool: proposal.tool, proposed: finalFile, current: old)
        case .gone: RiskHints.assess(tool: proposal.tool, proposed: finalFile, current: nil)
        }
    }

    /// Whether the final file is in the bottle now (applied, not undone by a failure).
    var wasApplied: Bool { decision.status.isApproval && decision.apply?.state == .applied }

    /// The review as lines: when it was decided, the notes, the apply outcome,
    /// then the summary and diff of what it changed.
    public func render(color: Bool) -> [String] {
        func paint(_ code: String, _ text: String) -> String { color ? code + text + "\u{1B}[0m" : text }
        let file = proposal.tool.configFile.fileName
        var lines = [paint("\u{1B}[1m", "Decision")]
        // Who decided is on the header line of `show` and of the console's detail view.
        lines.append("  decided at \(Timestamp.format(decision.decidedAt))")
        if let rule = decision.decidingRule { lines.append("  by the standing rule \(Escaped(rule)), with no human") }
        if !decision.notes.isEmpty { lines.append("  notes: \(Escaped(decision.notes))") }
        if let answer = decision.answer { lines.append("  preset answer: \(Escaped(answer))") }
        if let apply = decision.apply {
            lines.append("  apply: \(Escaped(apply.summary))")
        } else if decision.status.isApproval {
            lines.append("  apply: not recorded")
        }
        lines.append("  " + outcome(file))
        if let since = replacedSinceNote { lines.append("  " + paint("\u{1B}[1;33m", since)) }
        lines.append("")
        switch base {
        case .gone(let sha256):
            lines.append(paint("\u{1B}[1m", "The \(headingNoun) \(file) in full") + Self.goneNote(sha256))
            lines += Escaped(finalFile, keepLayout: true).description.split(
                separator: "\n", omittingEmptySubsequences: false
            ).map { "  " + $0 }
            lines.append("")
            lines += RiskHintLines.render(riskHints, color: color)
        case .file(let old):
            var shown = proposal
            shown.proposedFile = finalFile
            lines += ProposalReview(proposal: shown, currentFile: old).render(color: color, comparison: comparison)
        }
        return lines
    }

    /// That the bottle's file was replaced after this decision, and where to
    /// see by what; `nil` when the applied file is still in place.
    public var replacedSinceNote: String? {
        guard replacedSince else { return nil }
        return "the bottle's \(proposal.tool.configFile.fileName) has been replaced since (a later approval or a "
            + "rollback; `bottle-supervise log` says which): this is not what is in effect now"
    }

    /// One sentence on what is in the bottle now because of this decision.
    private func outcome(_ file: String) -> String {
        switch decision.status {
        case .approved, .modified:
            let whose = decision.status == .modified ? "the operator's version" : "the proposed file"
            // Only what the outcome proves: an interrupted apply may have left either file in place.
            switch decision.apply?.state {
            case .applied: return "\(whose) replaced the bottle's \(file)"
            case .pending: return "\(whose) is being applied"
            case .failed: return "not applied: the apply step failed, as the line above says"
            case .skipped: return "not applied: the apply step was skipped"
            case nil: return "no apply outcome is recorded: the bottle's \(file) shows what is in effect"
            }
        case .rejected, .withdrawn, .expired:
            return "nothing was applied: the bottle's \(file) stayed as it was"
        }
    }

    private var headingNoun: String {
        switch decision.status {
        case .modified: wasApplied ? "applied (modified)" : "approved (modified)"
        case .approved: wasApplied ? "applied" : "approved"
        default: "proposed"
        }
    }

    /// The heading over the diff, for pages that draw it themselves.
    public var diffHeading: String {
        if case .gone(let sha256) = base {
            // The page draws the final file whole under it, as `show` does.
            return "The \(headingNoun) \(proposal.tool.configFile.fileName) in full" + Self.goneNote(sha256)
        }
        return comparison.heading
    }

    /// Why the final file is shown whole: the one it replaced is no longer kept.
    private static func goneNote(_ sha256: String) -> String {
        " (the file it was compared with, sha256 \(sha256.prefix(12)), is no longer kept)"
    }

    /// Why an approval's diff is not "what was applied", as far as the outcome proves:
    /// an apply still running, or one cut off before it was recorded, may yet have
    /// put the file in place.
    private var notAppliedNote: String {
        switch decision.apply?.state {
        case .failed, .skipped: "not applied"
        case .pending: "still being applied"
        case .applied, nil: "no apply outcome recorded"
        }
    }

    private var comparison: ProposalReview.Comparison {
        let file = proposal.tool.configFile.fileName
        switch decision.status {
        case .approved, .modified:
            let new = decision.status == .modified ? "modified" : "approved"
            return wasApplied
                ? .init(
                    heading: "What was applied: the \(new) \(file), against the one it replaced", old: "replaced",
                    new: new, warnsOfChange: false)
                : .init(
                    heading: "What was approved, against the \(file) it was made against (\(notAppliedNote))",
                    old: "before", new: new, warnsOfChange: false)
        case .rejected, .withdrawn, .expired:
            return .init(
                heading: "The proposal, against the \(file) it was made against (not applied)", old: "before",
                new: "proposed", warnsOfChange: false)
        }
    }
}
