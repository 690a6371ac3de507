import Apply
import Foundation
import Queue
import Testing

@testable import Console

@Suite("TUI: grant durations")
struct TUIGrantTests {
    func model(tool: Tool) -> (ConsoleModel, ProposalID) {
        var model = ConsoleModel()
        let proposal = Proposal(
            bottle: try! BottleSlug("b1"), tool: tool, proposedFile: "a.example\n", justification: "need it",
            currentFileSHA256: nil)
        model.entries = [QueueEntry(proposal: proposal, decision: nil, waiting: true, archived: false)]
        return (model, proposal.id)
    }

    @Test("the approval's question takes a duration: 1 hour, 8 hours, always, or y for the bottle's default")
    func durations() throws {
        for (key, expected) in [
            ("1", GrantRequest.lasting(try GrantDuration.parse("1h"))), ("8", .lasting(try GrantDuration.parse("8h"))),
            ("A", .permanent), ("y", .asConfigured),
        ] {
            var (model, id) = model(tool: .pipelockBlock)
            _ = model.handle(.character("a"))
            let footer = ConsoleView(color: false).render(model, size: Terminal.Size(rows: 10, columns: 140)).last ?? ""
            #expect(footer.contains("1 1 hour  8 8 hours  A always"), "\(footer)")
            #expect(model.handle(.character(Character(key))) == [.decide(id, .approved, notes: "", finalFile: nil)])
            #expect(model.grantChoice[id] == expected)
        }
    }

    @Test("a Dockerfile's question offers no duration, and a duration key decides nothing")
    func dockerfile() {
        var (model, id) = model(tool: .capabilityBlock)
        _ = model.handle(.character("a"))
        let footer = ConsoleView(color: false).render(model, size: Terminal.Size(rows: 10, columns: 140)).last ?? ""
        #expect(footer.contains(" y yes  n no"), "\(footer)")
        #expect(model.handle(.character("1")) == [])
        #expect(model.message?.text == "nothing decided")
        #expect(model.grantChoice[id] != .lasting(GrantDuration(seconds: 3_600)!))
    }
}
