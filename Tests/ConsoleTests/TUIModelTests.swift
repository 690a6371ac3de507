import Foundation
import Queue
import Testing

@testable import Console

private func entry(
    _ bottle: String = "b1", tool: Tool = .pipelockBlock, justification: String = "need it", decision: Decision? = nil,
    age: TimeInterval = 60
) -> QueueEntry {
    let proposal = Proposal(
        bottle: try! BottleSlug(bottle), tool: tool, proposedFile: "a.example\n", justification: justification,
        currentFileSHA256: nil, createdAt: Date().addingTimeInterval(-age))
    return QueueEntry(
        proposal: proposal,
        decision: decision.map {
            var d = $0; d.id = proposal.id; return d
        }, waiting: true, archived: false)
}

@Suite("TUI: model")
struct TUIModelTests {
    @Test("approve asks to confirm, then decides with the notes typed")
    func approve() {
        var model = ConsoleModel()
        let first = entry()
        model.entries = [first]
        #expect(model.handle(.character("n")) == [])
        for character in "fine" { _ = model.handle(.character(character)) }
        #expect(model.handle(.enter) == [])
        #expect(model.handle(.character("a")) == [])
        #expect(model.screen == .confirm(.approve))
        #expect(model.handle(.character("y")) == [.decide(first.proposal.id, .approved, notes: "fine", finalFile: nil)])
    }

    @Test("answering no to the question decides nothing")
    func declined() {
        var model = ConsoleModel()
        model.entries = [entry()]
        _ = model.handle(.character("a"))
        #expect(model.handle(.character("n")) == [])
        #expect(model.screen == .list)
        #expect(model.message?.text == "nothing decided")
    }

    @Test("a rejection needs notes")
    func rejectNeedsNotes() {
        var model = ConsoleModel()
        let first = entry()
        model.entries = [first]
        _ = model.handle(.character("r"))
        #expect(model.handle(.enter) == [])
        #expect(model.message?.isError == true)
        _ = model.handle(.character("r"))
        for character in "too broad" { _ = model.handle(.character(character)) }
        #expect(model.handle(.enter) == [.decide(first.proposal.id, .rejected, notes: "too broad", finalFile: nil)])
    }

    @Test("a withdrawn proposal can't be decided")
    func withdrawnCannotBeDecided() {
        var model = ConsoleModel()
        model.entries = [entry(decision: Decision(id: .generate(), status: .withdrawn, decidedBy: "agent"))]
        #expect(model.handle(.character("a")) == [])
        #expect(model.handle(.character("m")) == [])
        #expect(model.handle(.character("r")) == [])
        #expect(model.screen == .list)
        #expect(model.message?.text.contains("already withdrawn") == true)
    }

    @Test("the filter narrows the list by bottle or tool; Esc clears it")
    func filter() {
        var model = ConsoleModel()
        model.entries = [entry("alpha"), entry("beta", tool: .capabilityBlock)]
        _ = model.handle(.character("/"))
        for character in "capab" { _ = model.handle(.character(character)) }
        _ = model.handle(.enter)
        #expect(model.visible.map(\.proposal.bottle.rawValue) == ["beta"])
        _ = model.handle(.escape)
        #expect(model.visible.count == 2)
    }

    @Test("Enter opens the detail view; q goes back; q in the list quits; Ctrl-C quits anywhere")
    func navigation() {
        var model = ConsoleModel()
        let first = entry()
        model.entries = [first]
        #expect(model.handle(.enter) == [.openDetail(first.proposal.id)])
        #expect(model.screen == .detail)
        #expect(model.handle(.character("q")) == [])
        #expect(model.screen == .list)
        #expect(model.handle(.character("q")) == [.quit])
        #expect(model.handle(.control("c")) == [.quit])
    }
}

@Suite("TUI: view")
struct TUIViewTests {
    @Test("the list says whether the agent is waiting, stopped waiting, or was never attached")
    func attendance() {
        var model = ConsoleModel()
        var waiting = entry("waiting-bottle")
        var stopped = entry("stopped-bottle")
        stopped.waiting = false
        stopped.stoppedWaitingAt = Date().addingTimeInterval(-120)
        var never = entry("never-bottle")
        never.waiting = false
        waiting.waiting = true
        model.entries = [waiting, stopped, never]
        let lines = ConsoleView(color: false).render(model, size: .init(rows: 10, columns: 200))
        #expect(lines.contains { $0.contains("waiting-bottle") && $0.contains("waiting") })
        #expect(lines.contains { $0.contains("stopped-bottle") && $0.contains("stopped") })
        #expect(lines.contains { $0.contains("never-bottle") && $0.contains("pending") })
        #expect(stopped.attendance.hasPrefix("the agent stopped waiting at "))
    }

    @Test("hostile text in a justification is shown escaped and never reaches the screen raw")
    func hostileJustification() {
        var model = ConsoleModel()
        model.entries = [entry(justification: "ok\u{1B}[2J\u{1B}]52;c;SGVsbG8=\u{07}\u{202E}drowssap\u{9B}31m")]
        let lines = ConsoleView(color: false).render(model, size: .init(rows: 10, columns: 200))
        let screen = lines.joined(separator: "\n")
        #expect(!screen.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(!screen.unicodeScalars.contains { (0x80...0x9F).contains($0.value) || $0 == "\u{202E}" })
        #expect(screen.contains("ok\\e[2J\\e]52;c;SGVsbG8=\\x07\\u{202e}drowssap\\x9b31m"))
    }

    @Test("the frame has exactly the terminal's rows and no line wider than its columns")
    func frameFits() {
        var model = ConsoleModel()
        model.entries = (0..<50).map {
            entry("bottle-\($0)", justification: String(repeating: "long ", count: 40), age: Double($0))
        }
        for size in [Terminal.Size(rows: 24, columns: 80), .init(rows: 5, columns: 30), .init(rows: 60, columns: 200)] {
            let lines = ConsoleView(color: true).render(model, size: size)
            #expect(lines.count == size.rows)
            #expect(lines.allSatisfy { TextLayout.width($0) <= size.columns })
        }
    }

    @Test("ages read at a glance")
    func ages() {
        let now = Date()
        #expect(ConsoleView.age(of: now.addingTimeInterval(-42), now: now) == "42s")
        #expect(ConsoleView.age(of: now.addingTimeInterval(-300), now: now) == "5m")
        #expect(ConsoleView.age(of: now.addingTimeInterval(-3 * 3600), now: now) == "3h")
        #expect(ConsoleView.age(of: now.addingTimeInterval(-2 * 86400), now: now) == "2d")
    }
}

@Suite("Review of a proposal")
struct ReviewTests {
    @Test("a current file changed since the proposal is flagged; the proposed file is shown escaped")
    func conflictAndEscaping() {
        let proposal = Proposal(
            bottle: try! BottleSlug("b1"), tool: .pipelockBlock, proposedFile: "a.example\n\u{1B}]0;pwned\u{07}\n",
            justification: "need it", currentFileSHA256: SHA256Hex.of("old.example\n"))
        let entry = QueueEntry(proposal: proposal, decision: nil, waiting: true, archived: false)
        let unchanged = ConsoleApp.review(entry, "old.example\n", false, 80)
        #expect(!unchanged.joined().contains("changed since"))
        #expect(unchanged.contains("-old.example"))
        #expect(unchanged.contains("+a.example"))
        let changed = ConsoleApp.review(entry, "someone.else.example\n", false, 80)
        #expect(changed.first?.hasPrefix("! the current file changed since this proposal was made") == true)
        #expect(changed.contains("+\\e]0;pwned\\x07"))
        #expect(!changed.joined().unicodeScalars.contains { $0.value < 0x20 })
    }
}

@Suite("TUI: deadlines")
struct TUIExpiryTests {
    @Test("a proposal past its deadline shows as expired and can't be decided, even before anyone records it")
    func expired() {
        let proposal = Proposal(
            bottle: try! BottleSlug("b1"), tool: .pipelockBlock, proposedFile: "a.example\n", justification: "late",
            currentFileSHA256: nil, createdAt: Date().addingTimeInterval(-120), expiresAt: Date().addingTimeInterval(-1)
        )
        var model = ConsoleModel()
        model.entries = [QueueEntry(proposal: proposal, decision: nil, waiting: false, archived: false)]
        #expect(model.handle(.character("a")).isEmpty)
        #expect(model.screen == .list)
        #expect(model.message?.text.contains("expired") == true)
        let screen = ConsoleView(color: false).render(model, size: .init(rows: 10, columns: 120)).joined()
        #expect(screen.contains("expired"))
    }
}

@Suite("Unified diff")
struct UnifiedDiffTests {
    @Test("a change in the middle gets a hunk with three lines of context each side")
    func hunk() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\n")
        let diff = UnifiedDiff(old: old, new: new)
        #expect(diff.lines.first == .hunk("@@ -2,7 +2,7 @@"))
        #expect(diff.lines.contains(.removed("line 5")))
        #expect(diff.lines.contains(.added("line five")))
        #expect(diff.counts == (added: 1, removed: 1))
    }

    @Test("equal texts have no diff; a new file is all additions")
    func edges() {
        #expect(UnifiedDiff(old: "a\nb\n", new: "a\nb\n").lines.isEmpty)
        let created = UnifiedDiff(old: "", new: "a\nb\n")
        #expect(created.lines == [.hunk("@@ -0,0 +1,2 @@"), .added("a"), .added("b")])
    }

    @Test("summaries name hosts added and removed, and routes added")
    func summaries() {
        let allowlist = Proposal(
            bottle: try! BottleSlug("b"), tool: .pipelockBlock, proposedFile: "a.example\nc.example\n",
            justification: "j",
            currentFileSHA256: nil)
        #expect(
            ProposalReview(proposal: allowlist, currentFile: "a.example\nb.example\n").summary == [
                "host added: c.example", "host removed: b.example",
            ])
        let routes = Proposal(
            bottle: try! BottleSlug("b"), tool: .credProxyBlock,
            proposedFile: #"{"routes": [{"path": "/gh", "upstream": "x"}, {"path": "/npm"}]}"#, justification: "j",
            currentFileSHA256: nil)
        #expect(
            ProposalReview(proposal: routes, currentFile: #"{"routes": [{"path": "/gh", "upstream": "y"}]}"#).summary
                == ["route added: path /npm", "route changed: path /gh"])
    }
}
