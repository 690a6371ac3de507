import Foundation
import SystemPackage
import Queue
import Testing

@testable import Console

/// The console's keys for preset answers (`p`) and "approve and remember" (`A`).
@Suite("TUI: preset answers and remember")
struct TUIPolicyKeyTests {
    func model() -> (ConsoleModel, ProposalID) {
        var model = ConsoleModel()
        let proposal = Proposal(
            bottle: try! BottleSlug("b1"), tool: .pipelockBlock, proposedFile: "a.example\n", justification: "x",
            currentFileSHA256: nil)
        model.entries = [QueueEntry(proposal: proposal, decision: nil, waiting: true, archived: false)]
        model.answerNames = ["other", "use-mirror"]
        return (model, proposal.id)
    }

    @Test("p picks each preset answer in turn, then none; a rejection with one needs no typed notes")
    func picker() {
        var (model, id) = model()
        #expect(model.handle(.character("p")) == [])
        #expect(model.answers[id] == "other")
        _ = model.handle(.character("p"))
        #expect(model.answers[id] == "use-mirror")
        #expect(model.message?.text.contains("preset answer: use-mirror") == true)
        _ = model.handle(.character("p"))
        #expect(model.answers[id] == nil)
        _ = model.handle(.character("p"))
        _ = model.handle(.character("r"))
        // Enter with no notes: the preset answer is the reason.
        #expect(model.handle(.enter) == [.decide(id, .rejected, notes: "", finalFile: nil)])
    }

    @Test("without [answers], p says how to add them")
    func noAnswers() {
        var (model, id) = model()
        model.answerNames = []
        _ = model.handle(.character("p"))
        #expect(model.answers[id] == nil)
        #expect(model.message?.isError == true)
    }

    @Test("A asks to confirm, then approves and marks the proposal to be remembered; n leaves nothing marked")
    func remember() {
        var (model, id) = model()
        _ = model.handle(.character("A"))
        #expect(model.screen == .confirm(.approveAndRemember))
        #expect(model.handle(.character("y")) == [.decide(id, .approved, notes: "", finalFile: nil)])
        #expect(model.remembering == id)
        var (other, _) = self.model()
        _ = other.handle(.character("A"))
        #expect(other.handle(.character("n")) == [])
        #expect(other.remembering == nil)
    }
}

/// The console reads the deadline in effect: an extension from the web page keeps a proposal decidable.
@Suite("TUI: an extended deadline")
struct TUIExtendedDeadlineTests {
    @Test("past its own deadline but within the extension, a proposal is still decidable in the console")
    func extended() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ext-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let root = QueueRoot(FilePath(path))
        let bottle = try BottleSlug("b1")
        let proposal = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "a.example\n", justification: "x",
            currentFileSHA256: nil, createdAt: Date().addingTimeInterval(-120), expiresAt: Date().addingTimeInterval(-1))
        _ = try await root.queue(for: bottle).submit(proposal)
        // Its own deadline has passed; the web page extended it before that (the file it writes).
        try Data((Timestamp.format(Date().addingTimeInterval(3600)) + "\n").utf8).write(
            to: URL(fileURLWithPath: "\(path)/b1/\(proposal.id).extended"))
        var without = ConsoleModel()
        without.entries = [QueueEntry(proposal: proposal, decision: nil, waiting: false, archived: false)]
        #expect(!without.selectedIsDecidable)
        var model = ConsoleModel()
        _ = model.reload(nil, from: QueueRootReader(root: root))
        #expect(model.selectedIsDecidable)
        #expect(model.entries.first?.proposal.expiresAt.map { $0 > Date().addingTimeInterval(3000) } == true)
    }
}
