import FoundationEssentials
import Queue

/// The `tools/call` result for a decided proposal: text for the model,
/// `structuredContent` for programs, `isError` for anything but an approval.
public enum ToolAnswer {
    /// The result object for `decision` on `proposal`.
    public static func result(for decision: Decision, of proposal: Proposal) -> JSONValue {
        var structured: JSONValue = [
            "status": .string(decision.status.rawValue),
            "notes": .string(decision.notes),
            "proposal_id": .string(proposal.id.rawValue),
        ]
        if decision.status == .modified, let final = decision.finalFile { structured["final_file"] = .string(final) }
        if let answer = decision.answer { structured["answer"] = .string(answer) }
        if decision.status != .withdrawn, decision.status != .expired {
            structured["decided_by"] = .string(decision.decidedBy)
        }
        if let apply = decision.apply {
            var object: JSONValue = ["state": .string(apply.state.rawValue), "summary": .string(apply.summary)]
            if let status = apply.exitStatus { object["exit_status"] = .integer(Int(status)) }
            if let sha = apply.newSHA256 { object["new_sha256"] = .string(sha) }
            structured["apply"] = object
        }
        if decision.status.isApproval, decision.apply?.state != .failed, let expiresAt = decision.expiresAt {
            structured["expires_at"] = .string(Timestamp.format(expiresAt))
        }
        return .object([
            "content": .array([.object(["type": "text", "text": .string(text(for: decision, of: proposal))])]),
            "structuredContent": structured,
            "isError": .bool(!decision.status.isApproval),
        ])
    }

    /// The result for a proposal still undecided when the hold limit passed:
    /// not an error (nothing failed), the proposal id, and one sentence
    /// telling the model what to do next.
    public static func pending(_ proposal: Proposal) -> JSONValue {
        let id = proposal.id.rawValue
        let text =
            "status: pending\nproposal: \(id)\n" + "The operator has not decided yet; call \(ProposalStatusTool.name) "
            + "with proposal_id \"\(id)\" to wait for the decision (do not send the proposal again)."
        return .object([
            "content": .array([.object(["type": "text", "text": .string(text)])]),
            "structuredContent": .object([
                "status": "pending", "notes": "", "proposal_id": .string(id),
            ]),
            "isError": false,
        ])
    }

    /// A tool result for input the model can correct: the validator's message, `isError`.
    public static func invalidInput(_ message: String) -> JSONValue {
        .object([
            "content": .array([.object(["type": "text", "text": .string(message)])]),
            "isError": true,
        ])
    }

    /// The text content: status, notes, who decided, and what the agent should do next.
    public static func text(for decision: Decision, of proposal: Proposal, now: Date = Date()) -> String {
        var lines = ["status: \(decision.status.rawValue)", "proposal: \(proposal.id.rawValue)"]
        if !decision.notes.isEmpty { lines.append("notes: \(decision.notes)") }
        if let answer = decision.answer { lines.append("answer: \(answer)") }
        if let rule = decision.decidingRule {
            // A standing rule of the operator's decided at once; no human read this proposal.
            lines.append(
                decision.status.isApproval
                    ? "the operator's standing rule \"\(rule)\" approved your proposal"
                    : "the operator's standing rule \"\(rule)\" rejected your proposal; nothing changes")
        } else {
            switch decision.status {
            case .modified:
                lines.append(
                    "the operator modified your proposal before approving; the approved file is in final_file")
                if let final = decision.finalFile { lines.append("final file:\n\(final)") }
            case .approved:
                lines.append("the operator approved your proposal as sent")
            case .rejected:
                lines.append("the operator rejected your proposal; nothing changes")
            case .withdrawn:
                lines.append("the proposal was withdrawn; nothing changes")
            case .expired:
                lines.append("nobody decided in time; nothing changes")
            }
        }
        if let apply = decision.apply {
            // The summary names the outcome itself ("applied: wrote …", "approved, not applied: …");
            // the state is in structuredContent for programs.
            lines.append("apply: \(apply.summary)")
        } else if decision.status.isApproval {
            lines.append(
                "apply: not reported yet; the file in \(ToolCatalog.currentConfigDirectory) shows what is in effect")
        }
        // Not for an approval that was not applied: there is no access to end.
        if decision.status.isApproval, decision.apply?.state != .failed, let expiresAt = decision.expiresAt {
            lines.append(grantSentence(expiresAt, now: now))
        }
        return lines.joined(separator: "\n")
    }

    /// The sentence telling the model when a time-boxed approval ends.
    static func grantSentence(_ expiresAt: Date, now: Date) -> String {
        let when = Timestamp.format(expiresAt)
        if expiresAt <= now {
            return "access: this approval was time-boxed and ended at \(when); propose the change again if you still need it"
        }
        let left = Int64(expiresAt.timeIntervalSince(now).rounded(.up))
        return "access: this approval is time-boxed: it ends at \(when) (in \(left) s), when the change is taken "
            + "out again; call \(ProposalStatusTool.name) with this proposal_id to see whether it was extended, "
            + "and propose the change again before then if you still need it"
    }
}
