import Foundation
import Queue
import Testing

@testable import Console

private let hostile = "x\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\u{202E}gro.\u{200B}\u{7F}y"

private func rawControls(_ lines: [String]) -> [String] {
    lines.flatMap { line in
        line.unicodeScalars.filter { Escaped.mustEscape($0) }.map { "U+" + String($0.value, radix: 16) }
    }
}

@Suite("TUI: escaping")
struct TUIEscapingTests {
    func hostileEntry() -> QueueEntry {
        var decision = Decision(id: .generate(), status: .rejected, notes: "no \(hostile)", decidedBy: hostile)
        decision.apply = ApplyOutcome(state: .skipped, summary: hostile, outputTail: hostile)
        let proposal = Proposal(
            bottle: try! BottleSlug("demo"), tool: .credProxyBlock,
            proposedFile: #"{"routes": [{"path": "/\#(hostile)", "upstream": "https://\#(hostile)"}]}"# + "\n\(hostile)\n",
            justification: "first \(hostile)\nsecond \(hostile)\tend", currentFileSHA256: hostile)
        decision.id = proposal.id
        return QueueEntry(proposal: proposal, decision: decision, waiting: true, archived: false)
    }

    @Test("list screen, filter, message line and detail view (justification, summary, diff) show no raw control character")
    func everyScreenPart() {
        let entry = hostileEntry()
        var model = ConsoleModel()
        model.entries = [entry]
        model.message = .init(text: "malformed queue file demo/x.proposal.json: \(hostile)", isError: true)
        let view = ConsoleView(color: false)
        let size = Terminal.Size(rows: 40, columns: 200)
        #expect(rawControls(view.render(model, size: size)).isEmpty)
        // The review renderer, as the detail view and `show` use it, for every tool.
        for tool in Tool.allCases {
            var proposal = entry.proposal
            proposal.tool = tool
            let review = ProposalReview(proposal: proposal, currentFile: "current \(hostile)\n").render(color: false)
            #expect(rawControls(review).isEmpty, "\(tool): \(rawControls(review))")
            model.detailLines = review
            model.screen = .detail
            #expect(rawControls(view.render(model, size: size)).isEmpty)
        }
        // Typed filter text (pasted from anywhere) is escaped too.
        model.screen = .list
        model.filter = hostile
        #expect(rawControls(view.render(model, size: size)).isEmpty)
    }
}
