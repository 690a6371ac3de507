import Apply
import Console
import Foundation
import Queue
import Risk

/// What the pages show of proposals, as template values. Agent text is
/// passed through ``Escaped`` (control, bidi and zero-width characters made
/// visible) before the template engine HTML-escapes it: the same text an
/// operator sees in the terminal, inert in the browser.
enum ProposalViews {
    /// The most lines of a diff a page shows; a longer one ends with a note.
    static let diffLineLimit = 5000

    /// One row of the pending list.
    static func row(_ entry: QueueEntry, hints: [RiskHint], now: Date) -> [String: Any] {
        let proposal = entry.proposal
        let first = proposal.justification.split(separator: "\n").first.map(String.init) ?? ""
        let escaped = Escaped(first).description
        return [
            "id": proposal.id.rawValue, "href": "/proposals/\(proposal.id.rawValue)", "bottle": proposal.bottle.rawValue,
            "tool": proposal.tool.rawValue, "file": proposal.tool.configFile.fileName, "age": ConsoleView.age(of: proposal.createdAt, now: now),
            "waiting": entry.waiting, "risk": hints.highestSeverity?.rawValue ?? "none",
            "riskLabel": hints.highestSeverity?.rawValue ?? "",
            "justification": escaped.count > 240 ? String(escaped.prefix(239)) + "…" : escaped,
        ]
    }

    /// The proposal page's values. A decided proposal (`decided`) is shown as
    /// what was decided and applied: the final file against the file it
    /// replaced, as in `show` and the console (``DecisionReview``).
    static func page(
        _ entry: QueueEntry, currentFile: String?, decided: DecisionReview? = nil, reviewed: String,
        session: SessionStore.Session, message: (text: String, isError: Bool)?, answers: [String: String] = [:],
        deadline: Date? = nil, policyProblem: String? = nil
    ) -> [String: Any] {
        let proposal = entry.proposal
        var compared = proposal
        var old = currentFile
        var heading = "Diff against the current \(proposal.tool.configFile.fileName)"
        // The final file drawn whole: the file it replaced is no longer kept, so no diff is drawn, rather than a wrong one.
        var whole: String?
        if let decided {
            compared.proposedFile = decided.finalFile
            switch decided.base {
            case .file(let replaced): old = replaced
            case .gone:
                old = decided.finalFile  // nothing is claimed as added or removed
                whole = decided.finalFile
            }
            heading = decided.diffHeading
        }
        let review = ProposalReview(proposal: compared, currentFile: old)
        var values: [String: Any] = [
            "id": proposal.id.rawValue, "bottle": proposal.bottle.rawValue, "tool": proposal.tool.rawValue,
            "file": proposal.tool.configFile.fileName, "created": Timestamp.format(proposal.createdAt),
            "state": entry.decision?.status.rawValue ?? (entry.waiting ? "pending; the agent is waiting" : "pending"),
            "justification": Escaped(proposal.justification, keepLayout: true).description,
            "summary": review.summary.map { ["text": $0] },
            "hints": review.riskHints.map { hint -> [String: Any] in
                var item: [String: Any] = ["severity": hint.severity.rawValue, "reason": Escaped(hint.reason).description]
                if let line = hint.line { item["line"] = line }
                return item
            },
            "current": Escaped(currentFile ?? "(there is none yet)", keepLayout: true).description,
            "csrf": session.csrf, "reviewed": reviewed, "decideURL": "/proposals/\(proposal.id.rawValue)/decide",
        ]
        if entry.decision == nil {
            values["pending"] = true
            // A Dockerfile cannot be time-boxed: no duration buttons for it (docs/grants.md).
            if proposal.tool != .capabilityBlock { values["grantable"] = true }
            // The line feed the parser drops after <textarea> is the page's, never the file's (EditorText).
            if let reason = EditorText.uneditableReason(proposal.proposedFile) {
                values["uneditable"] = "Modify is not offered here: \(reason). Use `bottle-supervise modify \(proposal.id) --file FILE`."
            } else {
                values["proposed"] = EditorText.leadingBreak + proposal.proposedFile
            }
            if review.currentFileChanged { values["conflict"] = true }
            // The host's own checks of the file as read (forged hash, invalid file): it would be refused.
            if let problem = entry.problem { values["invalid"] = Escaped(problem).description }
            if !answers.isEmpty {
                values["hasAnswers"] = true
                values["answers"] = answers.keys.sorted().map { ["name": $0, "text": answers[$0] ?? ""] }
            }
            if let deadline {
                values["expires"] = Timestamp.format(deadline)
                values["extendable"] = deadline > Date()
            }
        }
        if let policyProblem { values["policyProblem"] = policyProblem }
        if let decision = entry.decision {
            var item: [String: Any] = [
                "status": decision.status.rawValue,
                "decidedBy": Escaped(decision.decidedBy).description + (decision.origin.label.map { " (\($0))" } ?? ""),
                "decidedAt": Timestamp.format(decision.decidedAt),
                "expiresAt": decision.expiresAt.map(Timestamp.format) ?? "",
            ]
            if !decision.notes.isEmpty { item["notes"] = Escaped(decision.notes).description }
            if let answer = decision.answer { item["answer"] = Escaped(answer).description }
            if let rule = decision.decidingRule { item["rule"] = Escaped(rule).description }
            // The summary names the outcome itself: prefixing the state would say it twice.
            if let apply = decision.apply { item["apply"] = Escaped(apply.summary).description }
            if let since = decided?.replacedSinceNote { item["since"] = since }
            values["decision"] = item
        }
        if let forged = entry.forgedDecision { values["forged"] = "A decision file was \(forged.attribution)." }
        if let message {
            values["message"] = message.text
            values["messageKind"] = message.isError ? "error" : "ok"
        }
        var diff: [[String: Any]] = []
        values["diffHeading"] = heading
        let lines =
            whole.map { file in
                file.split(separator: "\n", omittingEmptySubsequences: false).dropLast(file.hasSuffix("\n") ? 1 : 0)
                    .map { UnifiedDiff.Line.context(String($0)) }
            } ?? UnifiedDiff(old: old ?? "", new: compared.proposedFile).lines
        for line in lines.prefix(diffLineLimit) {
            switch line {
            case .hunk(let text): diff.append(["kind": "hunk", "text": text])
            case .context(let text): diff.append(["kind": "ctx", "text": " " + Escaped(text).description])
            case .removed(let text): diff.append(["kind": "del", "text": "-" + Escaped(text).description])
            case .added(let text): diff.append(["kind": "add", "text": "+" + Escaped(text).description])
            }
        }
        values["diff"] = diff
        if diff.count == diffLineLimit { values["diffCut"] = "The diff is cut at \(diffLineLimit) lines." }
        return values
    }
}
