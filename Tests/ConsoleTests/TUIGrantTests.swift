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

    @Test("approve-and-remember with a duration key remembers a rule that grants for that time, not for good")
    func rememberedWithDuration() throws {
        for (key, expected) in [("1", try GrantDuration.parse("1h")), ("8", try GrantDuration.parse("8h"))] {
            var (model, id) = model(tool: .pipelockBlock)
            _ = model.handle(.character("A"))
            #expect(model.handle(.character(Character(key))) == [.decide(id, .approved, notes: "", finalFile: nil)])
            #expect(model.remembering == id)
            #expect(model.rememberedGrant(for: id) == expected)
        }
        var (model, id) = model(tool: .pipelockBlock)
        _ = model.handle(.character("A"))
        _ = model.handle(.character("y"))
        #expect(model.rememberedGrant(for: id) == nil, "y: the rule grants as the bottle is configured, for good")
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

@Suite("TUI: grants screen")
struct TUIGrantsScreenTests {
    func grant(_ bottle: String, host: String, in seconds: TimeInterval) throws -> Grant {
        Grant(
            id: .generate(), bottle: try BottleSlug(bottle), file: .allowlist, holdings: GrantHoldings(hosts: [host]),
            grantedBy: "alice", grantedAt: Date(), expiresAt: Date().addingTimeInterval(seconds))
    }

    @Test("g opens the live grants; x revokes the selected one, e and E extend it, Esc goes back")
    func grantsScreen() throws {
        var model = ConsoleModel()
        #expect(model.handle(.character("g")) == [.loadGrants])
        #expect(model.screen == .grants)
        let first = try grant("web", host: "docs.python.org", in: 600)
        let second = try grant("api", host: "pypi.org", in: 3_600)
        model.grants = [first, second]
        let lines = ConsoleView(color: false).render(
            model, size: Terminal.Size(rows: 10, columns: 160), now: first.expiresAt.addingTimeInterval(-600))
        #expect(lines.contains { $0.hasPrefix("▶ 10m 00s") && $0.contains("host docs.python.org") }, "\(lines)")
        #expect(lines.last?.contains("x revoke  e extend to 1 hour from now  E extend to 8 hours from now") == true)
        #expect(model.handle(.character("x")) == [.revokeGrant(first.id)])
        #expect(model.handle(.down) == [])
        #expect(model.handle(.character("E")) == [.extendGrant(second.id, GrantDuration(seconds: 8 * 3_600)!)])
        #expect(model.handle(.character("e")) == [.extendGrant(second.id, GrantDuration(seconds: 3_600)!)])
        #expect(model.handle(.escape) == [])
        #expect(model.screen == .list)
    }
}
