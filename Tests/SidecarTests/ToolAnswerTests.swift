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
}
