import Foundation
import Queue
import Testing

@testable import Sidecar

/// What the agent reads when its proposal is decided.
@Suite("Sidecar: the answer's text")
struct ToolAnswerTests {
    let proposal = Proposal(
        bottle: try! BottleSlug("web"), tool: .pipelockBlock, proposedFile: "pypi.org\n", justification: "pip",
        currentFileSHA256: nil)

    @Test("the apply outcome is said once: the summary names it, the state is not put in front of it again")
    func applyOutcomeOnce() {
        for (state, summary) in [
            (ApplyOutcome.State.applied, "applied: wrote allowlist and ran podman restart web-pipelock"),
            (.failed, "approved, not applied: podman exited with status 125: Error: no such container web-pipelock"),
        ] {
            let decision = Decision(
                id: proposal.id, status: .approved, decidedBy: "alice",
                apply: ApplyOutcome(state: state, summary: summary))
            let text = ToolAnswer.text(for: decision, of: proposal)
            #expect(text.contains("apply: \(summary)"), "\(text)")
            #expect(!text.contains("applied — applied"), "\(text)")
            #expect(!text.contains("failed — approved"), "\(text)")
        }
    }

    @Test("a preset answer's name and the deciding rule reach the agent in structuredContent and the text")
    func answerAndRule() throws {
        let rejected = Decision(
            id: proposal.id, status: .rejected, notes: "Use the mirror.", decidedBy: "alice", answer: "use-mirror")
        let result = ToolAnswer.result(for: rejected, of: proposal)
        let structured = try #require(result["structuredContent"])
        #expect(structured["answer"]?.stringValue == "use-mirror")
        #expect(structured["notes"]?.stringValue == "Use the mirror.")
        #expect(ToolAnswer.text(for: rejected, of: proposal).contains("answer: use-mirror"))
        let byRule = Decision(id: proposal.id, status: .approved, decidedBy: "policy:docs")
        let ruled = try #require(ToolAnswer.result(for: byRule, of: proposal)["structuredContent"])
        #expect(ruled["decided_by"]?.stringValue == "policy:docs")
        #expect(ruled["answer"] == nil)
        #expect(ToolAnswer.text(for: byRule, of: proposal).contains("standing rule \"docs\" approved"))
    }

    @Test("a time-boxed approval's answer carries expires_at and says when the access ends; a permanent one does not")
    func grantEnd() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let end = now.addingTimeInterval(1_800)
        let decision = Decision(
            id: proposal.id, status: .approved, decidedBy: "alice",
            apply: ApplyOutcome(state: .applied, summary: "applied: wrote allowlist and ran true"), expiresAt: end)
        let text = ToolAnswer.text(for: decision, of: proposal, now: now)
        #expect(text.contains("access: this approval is time-boxed: it ends at \(Timestamp.format(end)) (in 1800 s)"), "\(text)")
        #expect(ToolAnswer.text(for: decision, of: proposal, now: end).contains("ended at \(Timestamp.format(end))"))
        let structured = try #require(ToolAnswer.result(for: decision, of: proposal)["structuredContent"])
        #expect(structured["expires_at"] == .string(Timestamp.format(end)))

        var permanent = decision
        permanent.expiresAt = nil
        #expect(!ToolAnswer.text(for: permanent, of: proposal).contains("time-boxed"))
        let otherStructured = try #require(ToolAnswer.result(for: permanent, of: proposal)["structuredContent"])
        #expect(otherStructured["expires_at"] == nil)
    }
}
