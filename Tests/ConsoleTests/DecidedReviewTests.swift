import Apply
import FileAccess
import Foundation
import Queue
import Synchronization
import SystemPackage
import Testing

@testable import Console

/// A decided proposal, in `show` and the console: what was decided and
/// applied, never "the current file changed" and never a key to decide again.
@Suite("Review: decided proposals")
struct DecidedReviewTests {
    let configRoot: FilePath
    let bottle = try! BottleSlug("web")
    static let before = "api.github.com\n"

    init() throws {
        configRoot = FilePath(NSTemporaryDirectory()).appending("decided-\(UUID().uuidString.prefix(8))")
        try AtomicFile.makeDirectory(configRoot.appending("web"))
    }

    func proposal(_ file: String = "api.github.com\npypi.org\n") -> Proposal {
        Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: file, justification: "pip needs PyPI",
            currentFileSHA256: SHA256Hex.of(Self.before))
    }

    /// The bottle after an apply: the final file in place, the replaced one in its history.
    func applied(_ final: String) throws -> ApplyOutcome {
        let root = ConfigRoot(configRoot)
        try root.history(of: .allowlist, for: bottle).save(Data(Self.before.utf8))
        try AtomicFile.write(Data(final.utf8), to: root.path(of: .allowlist, for: bottle))
        return ApplyOutcome(
            state: .applied, summary: "applied: wrote allowlist and ran true",
            previousSHA256: SHA256Hex.of(Self.before),
            newSHA256: SHA256Hex.of(final))
    }

    @Test("an approved, applied proposal shows the applied file against the one it replaced, with no conflict warning")
    func approved() throws {
        let proposal = proposal()
        let decision = Decision(
            id: proposal.id, status: .approved, notes: "ok", decidedBy: "alice",
            apply: try applied(proposal.proposedFile))
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(!text.contains("current file changed"), "\(text)")
        #expect(text.contains("host added: pypi.org"), "\(text)")
        #expect(text.contains("+pypi.org"), "\(text)")
        #expect(text.contains("--- replaced/allowlist"))
        #expect(text.contains("notes: ok"))
        #expect(text.contains("apply: applied: wrote allowlist and ran true"))
        #expect(!text.contains("applied: applied:"))
        #expect(!text.contains("replaced since"), "the applied file is still in place: \(text)")
    }

    @Test("after a rollback (or a later approval) the review says the applied file is no longer what is in effect")
    func replacedSince() throws {
        let proposal = proposal()
        let decision = Decision(
            id: proposal.id, status: .approved, decidedBy: "alice", apply: try applied(proposal.proposedFile))
        // A rollback put the earlier file back.
        try AtomicFile.write(Data(Self.before.utf8), to: ConfigRoot(configRoot).path(of: .allowlist, for: bottle))
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(
            text.contains("the bottle's allowlist has been replaced since (a later approval or a rollback"), "\(text)")
        #expect(text.contains("+pypi.org"), "what was applied is still shown: \(text)")
        // A refusal changed nothing, so nothing after it can make it stale.
        let rejected = Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "alice")
        #expect(DecisionReview(proposal: proposal, decision: rejected, configRoot: configRoot).replacedSinceNote == nil)
        // An outcome that recorded no hash of what it wrote (an older decision file) claims nothing.
        var unhashed = decision
        unhashed.apply?.newSHA256 = nil
        #expect(DecisionReview(proposal: proposal, decision: unhashed, configRoot: configRoot).replacedSinceNote == nil)
    }

    @Test("after a modify, the operator's added host shows as added and the agent's dropped one is not there")
    func modified() throws {
        let proposal = proposal("api.github.com\npypi.org\nevil.example\n")
        let final = "api.github.com\npypi.org\nfiles.pythonhosted.org\n"
        let decision = Decision(
            id: proposal.id, status: .modified, finalFile: final, decidedBy: "alice", apply: try applied(final))
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(text.contains("host added: files.pythonhosted.org"), "\(text)")
        #expect(!text.contains("removed: files.pythonhosted.org"), "\(text)")
        #expect(!text.contains("evil.example"), "\(text)")
        #expect(text.contains("+++ modified/allowlist"))
    }

    @Test("a rejected proposal shows the proposal and the notes, and says nothing was applied")
    func rejected() throws {
        // The bottle's file changed since (another approval): no warning about it any more.
        try AtomicFile.write(Data("other.example\n".utf8), to: ConfigRoot(configRoot).path(of: .allowlist, for: bottle))
        try ConfigRoot(configRoot).history(of: .allowlist, for: bottle).save(Data(Self.before.utf8))
        let proposal = proposal()
        let decision = Decision(id: proposal.id, status: .rejected, notes: "too broad", decidedBy: "bob")
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(!text.contains("current file changed"), "\(text)")
        #expect(text.contains("notes: too broad"))
        #expect(text.contains("nothing was applied"))
        #expect(text.contains("+pypi.org"))
        #expect(!text.contains("other.example"), "diffed against the file it was made against: \(text)")
    }

    @Test("a failed apply says it was not applied, and diffs the approved file against the one it was made against")
    func failedApply() throws {
        try AtomicFile.write(Data(Self.before.utf8), to: ConfigRoot(configRoot).path(of: .allowlist, for: bottle))
        let proposal = proposal()
        let decision = Decision(
            id: proposal.id, status: .approved, decidedBy: "alice",
            apply: ApplyOutcome(
                state: .failed,
                summary: "approved, not applied: podman exited with status 125: Error: no such container",
                previousSHA256: SHA256Hex.of(Self.before)))
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(text.contains("not applied: the apply step failed"), "\(text)")
        #expect(text.contains("(not applied)"), "\(text)")
        #expect(text.contains("+pypi.org"), "\(text)")
        #expect(!text.contains("replaced the bottle's"), "\(text)")
    }

    @Test("an approval still being applied, or with no outcome recorded, is not called 'not applied'")
    func unfinishedApply() throws {
        try AtomicFile.write(Data(Self.before.utf8), to: ConfigRoot(configRoot).path(of: .allowlist, for: bottle))
        let proposal = proposal()
        let cases: [(ApplyOutcome?, String)] = [
            (ApplyOutcome(state: .pending, summary: "approved; applying"), "(still being applied)"),
            (nil, "(no apply outcome recorded)"),
        ]
        for (apply, note) in cases {
            let decision = Decision(id: proposal.id, status: .approved, decidedBy: "alice", apply: apply)
            let review = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot)
            let text = review.render(color: false).joined(separator: "\n")
            #expect(text.contains("What was approved, against the allowlist it was made against \(note)"), "\(text)")
            #expect(!text.contains("not applied"), "\(text)")
            #expect(review.diffHeading.hasSuffix(note))
        }
    }

    @Test("when the replaced file is no longer kept, the applied file is shown whole, not as all added")
    func replacedFileGone() throws {
        let proposal = proposal()
        let decision = Decision(
            id: proposal.id, status: .approved, decidedBy: "alice",
            apply: ApplyOutcome(
                state: .applied, summary: "applied: wrote allowlist and ran true",
                previousSHA256: SHA256Hex.of("long gone\n")))
        let text = DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: false)
            .joined(separator: "\n")
        #expect(text.contains("is no longer kept"), "\(text)")
        #expect(text.contains("  pypi.org"))
        #expect(!text.contains("+pypi.org"))
    }

    @Test("the history finds a version by its full hash, not by the eight digits in its name")
    func historyLookup() throws {
        let history = ConfigRoot(configRoot).history(of: .allowlist, for: bottle)
        let saved = try history.save(Data("a.example\n".utf8))
        #expect(try history.version(withSHA256: SHA256Hex.of("a.example\n"))?.name == saved.name)
        // A file planted under a matching name with other content is not believed.
        let forged = SHA256Hex.of("b.example\n")
        try AtomicFile.write(
            Data("c.example\n".utf8), to: history.directory.appending("20990101T000000.000000Z-\(forged.prefix(8))"))
        #expect(try history.version(withSHA256: forged) == nil)
    }

    @Test("the history lookup passes over a FIFO and a symlink named like the version: never blocks, never follows")
    func historyLookupSkipsLinksAndFIFOs() throws {
        let history = ConfigRoot(configRoot).history(of: .allowlist, for: bottle)
        let content = "a.example\n"
        let sha = SHA256Hex.of(content)
        let saved = try history.save(Data(content.utf8))
        // Newer than the real version: a FIFO, then a link to a file outside with the very same bytes.
        let fifo = history.directory.appending("20990102T000000.000000Z-\(sha.prefix(8))")
        #expect(mkfifo(fifo.string, 0o600) == 0)
        let outside = configRoot.appending("outside")
        try AtomicFile.write(Data(content.utf8), to: outside)
        let link = history.directory.appending("20990101T000000.000000Z-\(sha.prefix(8))")
        #expect(symlink(outside.string, link.string) == 0)

        let found = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            found.withLock { $0 = try? history.version(withSHA256: sha)?.name }
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            // Deadline: release a reader stuck in open(2) on the FIFO, then fail.
            let writer = open(fifo.string, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = done.wait(timeout: .now() + 10)
            Issue.record("the lookup blocked on a FIFO in the history")
        }
        #expect(found.withLock { $0 } == saved.name)
    }
}

@Suite("TUI: decided proposals")
struct TUIDecidedTests {
    func decidedEntry() -> QueueEntry {
        let proposal = Proposal(
            bottle: try! BottleSlug("web"), tool: .pipelockBlock, proposedFile: "a.example\n", justification: "x",
            currentFileSHA256: nil)
        return QueueEntry(
            proposal: proposal, decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice"),
            waiting: false, archived: false)
    }

    @Test("the footer offers no approve, modify or reject for a decided proposal, in the list or its review")
    func footer() {
        var model = ConsoleModel()
        model.entries = [decidedEntry()]
        let size = Terminal.Size(rows: 12, columns: 200)
        let listFooter = ConsoleView(color: false).render(model, size: size).last ?? ""
        #expect(!listFooter.contains("a approve"), "\(listFooter)")
        #expect(listFooter.contains("Enter review"))
        _ = model.handle(.enter)
        #expect(model.screen == .detail)
        let detailFooter = ConsoleView(color: false).render(model, size: size).last ?? ""
        #expect(!detailFooter.contains("a approve") && !detailFooter.contains("r reject"), "\(detailFooter)")
        #expect(detailFooter.contains("approved: nothing to decide"), "\(detailFooter)")

        // A pending one still offers them.
        var pending = ConsoleModel()
        var entry = decidedEntry()
        entry.decision = nil
        pending.entries = [entry]
        #expect((ConsoleView(color: false).render(pending, size: size).last ?? "").contains("a approve"))
    }

    @Test("a, m, r and n refuse a decided proposal, saying why")
    func keysRefuse() {
        var model = ConsoleModel()
        model.entries = [decidedEntry()]
        _ = model.handle(.enter)
        for key in ["a", "m", "r", "n"] {
            model.message = nil
            #expect(model.handle(.character(Character(key))) == [], "\(key)")
            #expect(model.screen == .detail, "\(key)")
            #expect(model.message?.text.contains("already approved") == true, "\(key)")
        }
    }
}
