import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import Queue

/// Only the host decides (docs/security.md): a decision file counts on the
/// host only when it carries the MAC of the queue root's key, which no
/// sidecar can read. Everything a sidecar could write instead is judged
/// here: forged approvals and rejections, edited host decisions, added
/// fields, decisions moved from another bottle, and the sidecar's own
/// withdrawals; and the decisions of a queue written before sealing.
@Suite("Only the host decides", .serialized)
struct DecisionSealTests {
    let directory = TemporaryDirectory()
    var root: QueueRoot { QueueRoot(directory.path) }

    /// The forged decisions reported for this test's queue root.
    static let reported = Mutex<[String: [DecisionSeal.ForgedDecision]]>([:])

    init() {
        DecisionSeal.onForgedDecision { found in
            Self.reported.withLock { $0[found.queueRoot.string, default: []].append(found) }
        }
    }

    var reports: [DecisionSeal.ForgedDecision] { Self.reported.withLock { $0[directory.path.string] ?? [] } }

    /// The bottle's queue as the sidecar sees it: no key.
    func sidecar(_ bottle: BottleSlug = slug()) throws -> BottleQueue {
        let queue = BottleQueue(directory: directory.path.appending(bottle.rawValue), bottle: bottle)
        try queue.prepare()
        return queue
    }

    func decisionPath(_ id: ProposalID, bottle: BottleSlug = slug(), archived: Bool = false) -> FilePath {
        let folder = directory.path.appending(bottle.rawValue)
        return (archived ? folder.appending("archive") : folder).appending("\(id).decision.json")
    }

    func text(_ path: FilePath) throws -> String { try String(contentsOfFile: path.string, encoding: .utf8) }

    @Test("the host's decisions carry a MAC, read back as the host's, and stay so after the apply outcome")
    func hostDecisions() async throws {
        let proposal = makeProposal()
        _ = try await sidecar().submit(proposal)
        let host = root.queue(for: slug())
        try host.decide(Decision(id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: nil))
        #expect(try text(decisionPath(proposal.id)).contains("\"host_mac\""))
        #expect(try host.decision(proposal.id)?.origin == .host)
        try host.recordApply(ApplyOutcome(state: .applied, summary: "written"), for: proposal.id)
        let decided = try host.decision(proposal.id)
        #expect(decided?.origin == .host)
        #expect(decided?.apply?.state == .applied)
        // The key is the operator's alone.
        var info = stat()
        #expect(stat(directory.path.appending(".decision-key").string, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        // The sidecar reads the same file without judging it.
        #expect(try sidecar().decision(proposal.id)?.status == .approved)
        #expect(reports.isEmpty)
    }

    @Test("a forged approval is set aside, reported once, shown as forged, and the proposal stays decidable")
    func forgedApproval() async throws {
        _ = try DecisionSeal.of(root: directory.path)  // the host has run before: the forgery is not "unsigned"
        let proposal = makeProposal()
        let sidecar = try sidecar()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, notes: "ok", decidedBy: "alice"))
        let host = root.queue(for: slug())

        #expect(try host.decision(proposal.id) == nil)
        #expect(reports.count == 1)
        #expect(reports.first?.claimed?.decidedBy == "alice")
        #expect(reports.first?.tool == .pipelockBlock)
        #expect(!FileManager.default.fileExists(atPath: decisionPath(proposal.id).string))
        let entry = try host.entry(proposal.id)
        #expect(entry.isPending)
        #expect(entry.decision == nil)
        #expect(entry.forgedDecision?.origin == .forged)
        #expect(entry.forgedDecision?.status == .approved)
        #expect(try root.pending().map(\.proposal.id) == [proposal.id])
        #expect(reports.count == 1, "a forgery is reported by the read that set it aside, once")
        #expect(try host.applyingEntries().isEmpty)

        try host.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "bob"))
        #expect(try host.decision(proposal.id)?.decidedBy == "bob")
        #expect(try host.decision(proposal.id)?.origin == .host)
    }

    @Test("a forged file occupying the decision's name does not block the operator's decision")
    func forgedFileOccupiesName() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let proposal = makeProposal()
        let sidecar = try sidecar()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "mallory"))
        // No read before: the operator's decide meets the name taken.
        let host = root.queue(for: slug())
        try host.decide(Decision(id: proposal.id, status: .approved, decidedBy: "alice"))
        #expect(try host.decision(proposal.id)?.decidedBy == "alice")
        #expect(reports.count == 1)
    }

    @Test("a file under a decision's name that does not read as one is set aside too: it cannot hold the name")
    func malformedForgery() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let proposal = makeProposal()
        _ = try await sidecar().submit(proposal)
        for garbage in [#"{"status":"approved"}"#, "not json", #"{"format":1,"id":"x"}"#] {
            writeRaw(garbage, to: decisionPath(proposal.id))
            // The operator decides straight away: the name is taken by the garbage.
            let host = root.queue(for: slug())
            try host.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "alice"))
            #expect(try host.decision(proposal.id)?.decidedBy == "alice")
            #expect(reports.last?.claimed == nil)
            #expect(reports.last?.unreadable != nil)
            unlink(decisionPath(proposal.id).string)
        }
        #expect(reports.count == 3)
        // The sidecar still reports such a file as an error, never as a decision.
        writeRaw("not json", to: decisionPath(proposal.id))
        #expect(throws: QueueError.self) { try self.sidecar().decision(proposal.id) }
    }

    @Test("a forged approval whose apply is pending is never recovered")
    func forgedPendingApply() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let proposal = makeProposal()
        let sidecar = try sidecar()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(
            Decision(
                id: proposal.id, status: .approved, decidedBy: "alice",
                apply: ApplyOutcome(state: .pending, summary: "applying")))
        #expect(try root.queue(for: slug()).applyingEntries().isEmpty)
        #expect(reports.count == 1)
    }

    @Test("any field of a host decision changed, or one added, makes it forged")
    func everyFieldIsCovered() async throws {
        let host = root.queue(for: slug())
        let proposal = makeProposal()
        _ = try await sidecar().submit(proposal)
        try host.decide(
            Decision(
                id: proposal.id, status: .rejected, notes: "no", decidedBy: "alice",
                proposalSHA256: String(repeating: "a", count: 64)))
        let sealed = try text(decisionPath(proposal.id))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sealed.utf8)) as? [String: Any])
        var variants: [(String, [String: Any])] = []
        for (key, value) in object where key != "host_mac" && key != "id" && key != "format" {
            var changed = object
            switch value {
            case let text as String where key == "status": changed[key] = text == "rejected" ? "approved" : "rejected"
            case let text as String where key == "decided_at": changed[key] = text.replacingOccurrences(of: "Z", with: "1Z")
            case is String where key == "proposal_sha256": changed[key] = String(repeating: "b", count: 64)
            case let text as String: changed[key] = text + "x"
            default: changed[key] = "changed"
            }
            variants.append((key, changed))
        }
        var added = object
        added["expires_at"] = "2030-01-01T00:00:00.000Z"
        variants.append(("an added expires_at", added))
        var unsealed = object
        unsealed.removeValue(forKey: "host_mac")
        variants.append(("the MAC removed", unsealed))
        #expect(variants.count >= 6)
        for (what, variant) in variants {
            let data = try JSONSerialization.data(withJSONObject: variant, options: [.sortedKeys])
            writeRaw(String(decoding: data, as: UTF8.self), to: decisionPath(proposal.id))
            let decision = try? host.decision(proposal.id)
            #expect(decision == nil, "with \(what) changed the decision still counted")
            #expect(try host.entry(proposal.id).isPending, "with \(what) changed")
        }
        #expect(reports.count == variants.count)
    }

    @Test("a host decision copied into another bottle is forged there")
    func otherBottle() async throws {
        let proposal = makeProposal()
        _ = try await sidecar().submit(proposal)
        try root.queue(for: slug()).decide(Decision(id: proposal.id, status: .approved, decidedBy: "alice"))
        let other = slug("bottle-2")
        let copy = Proposal(
            id: proposal.id, bottle: other, tool: proposal.tool, proposedFile: proposal.proposedFile,
            justification: proposal.justification, currentFileSHA256: proposal.currentFileSHA256,
            createdAt: proposal.createdAt)
        _ = try await sidecar(other).submit(copy)
        writeRaw(try text(decisionPath(proposal.id)), to: decisionPath(proposal.id, bottle: other))
        #expect(try root.queue(for: other).decision(proposal.id) == nil)
        #expect(try root.queue(for: slug()).decision(proposal.id)?.origin == .host)
    }

    @Test("the sidecar's withdrawals and expiries are its claim, and count")
    func sidecarClaims() async throws {
        let proposal = makeProposal()
        let sidecar = try sidecar()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .withdrawn, decidedBy: "agent"))
        let decision = try root.queue(for: slug()).decision(proposal.id)
        #expect(decision?.status == .withdrawn)
        #expect(decision?.origin == .sidecar)
        #expect(decision?.origin.label == "the sidecar's claim")
        #expect(reports.isEmpty)
    }

    @Test("decisions from before sealing are unsigned, not forged, until their bytes change; never recovered")
    func queueFromBeforeSealing() async throws {
        let sidecar = try sidecar()
        let approved = makeProposal(file: "a.example\n")
        let applying = makeProposal(file: "b.example\n")
        _ = try await sidecar.submit(approved)
        _ = try await sidecar.submit(applying)
        // Written by an operator's build before this one: no MAC.
        try sidecar.decide(Decision(id: approved.id, status: .approved, decidedBy: "alice"))
        try sidecar.decide(
            Decision(
                id: applying.id, status: .approved, decidedBy: "alice",
                apply: ApplyOutcome(state: .pending, summary: "applying")))
        try await sidecar.archive(approved.id)
        #expect(!FileManager.default.fileExists(atPath: directory.path.appending(".decision-key").string))
        // The operator's build audited both decisions as it made them.
        let audited = [approved.id, applying.id].map { id in
            "{\"hash\":\"0\",\"format\":1,\"event\":\"decision\",\"by\":\"alice\",\"bottle\":\"\(slug())\","
                + "\"file\":\"allowlist\",\"id\":\"\(id)\",\"status\":\"approved\"}\n"
        }
        writeRaw(audited.joined(), to: directory.path.appending("audit.log"))

        let host = root.queue(for: slug())
        let old = try host.decision(approved.id)
        #expect(old?.origin == .unsigned)
        #expect(old?.decidedBy == "alice")
        #expect(try host.decision(applying.id)?.origin == .unsigned)
        #expect(try host.applyingEntries().isEmpty, "an unsigned apply is never finished by recovery")
        #expect(reports.isEmpty)

        // Changed after the key was made: no longer the file that was listed.
        let path = decisionPath(applying.id)
        writeRaw(try text(path).replacingOccurrences(of: "alice", with: "alicf"), to: path)
        #expect(try host.decision(applying.id) == nil)
        #expect(reports.count == 1)
    }

    @Test("a key file others can read, that is a link or has a second name, or that lies in a directory others can write, is refused with what to do")
    func keyFileGuards() throws {
        let keyPath = directory.path.appending(".decision-key")
        writeRaw(String(repeating: "ab", count: 32) + "\n", to: keyPath)
        chmod(keyPath.string, 0o644)
        DecisionSeal.forgetLoadedKeys()
        #expect {
            _ = try DecisionSeal.of(root: directory.path)
        } throws: { error in
            "\(error)".contains("chmod 600") && "\(error)".contains(keyPath.string)
        }
        unlink(keyPath.string)
        symlink("/etc/hostname", keyPath.string)
        #expect {
            _ = try DecisionSeal.of(root: directory.path)
        } throws: { error in
            "\(error)".contains("symbolic link")
        }
        // A second name for the key: whoever made it chose what the host reads as its key.
        unlink(keyPath.string)
        let elsewhere = directory.path.appending("other-secret")
        writeRaw(String(repeating: "cd", count: 32) + "\n", to: elsewhere)
        chmod(elsewhere.string, 0o600)
        #expect(link(elsewhere.string, keyPath.string) == 0)
        #expect {
            _ = try DecisionSeal.of(root: directory.path)
        } throws: { error in
            "\(error)".contains("the host's decision key has 2 names (hard links)") && "\(error)".contains("mv ")
        }
        // The queue root writable by others: they could swap the key file for one of their choosing.
        unlink(elsewhere.string)
        chmod(directory.path.string, 0o777)
        defer { chmod(directory.path.string, 0o700) }
        #expect {
            _ = try DecisionSeal.of(root: directory.path)
        } throws: { error in
            "\(error)".contains("which others can write") && "\(error)".contains("chmod go-w \(directory.path.string)")
        }
    }

    @Test("a host command that finds no key while another is making it waits for that key, instead of taking the other's list of unsigned decisions for a lost key")
    func keyBeingMadeElsewhere() throws {
        let rootPath = directory.path
        // Another host command half-way through making the key: it holds the key lock and has
        // written the list of unsigned decisions, not the key yet (what two `approve` started at once meet).
        let lock = open(rootPath.appending(DecisionSeal.keyLockName).string, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
        defer { close(lock) }
        writeRaw("", to: rootPath.appending(DecisionSeal.unsignedListName))
        let lookup = KeyLookup(root: rootPath)
        // Not a synchronisation: the waiting command passes however long this is. Without the lock it
        // fails at once (a missing key), so the pause only gives it the time to.
        usleep(200_000)
        let keyPath = rootPath.appending(DecisionSeal.keyName)
        writeRaw(String(repeating: "ab", count: 32) + "\n", to: keyPath)
        chmod(keyPath.string, 0o600)
        flock(lock, LOCK_UN)
        #expect(lookup.outcome(within: 15) == "made", "the command waiting on the lock never finished, or failed")
        #expect(try text(keyPath) == String(repeating: "ab", count: 32) + "\n", "the other command's key is kept")
    }

    @Test("whoever can read the queue root cannot hold up the making of the key: the lock is a file of the owner's, mode 0600")
    func rootReadersCannotHoldTheKeyLock() throws {
        let rootPath = directory.path
        // What any local user may do to a 0755 root: open it for reading and take a lock on the directory.
        let reader = open(rootPath.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(reader >= 0 && flock(reader, LOCK_EX) == 0)
        defer { close(reader) }
        let lookup = KeyLookup(root: rootPath)
        // Under the creation lock's own 10 s wait: a key made despite the reader's lock, not after a failure.
        #expect(lookup.outcome(within: 5) == "made", "making the key waited on a lock a reader held, or failed")
        var info = stat()
        #expect(lstat(rootPath.appending(DecisionSeal.keyLockName).string, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o600 && info.st_uid == geteuid())
    }

    @Test("a key lock that is a link, a FIFO, another's file, open to others or a second name is refused, not used")
    func keyLockGuards() throws {
        let lockPath = directory.path.appending(DecisionSeal.keyLockName)
        let elsewhere = directory.path.appending("elsewhere")
        writeRaw("", to: elsewhere)
        chmod(elsewhere.string, 0o600)
        let rootPath = directory.path
        // Each attempt has 5 s: a FIFO opened without O_NONBLOCK would wait for ever.
        func refusal() -> String { KeyLookup(root: rootPath).outcome(within: 5) }
        #expect(symlink(elsewhere.string, lockPath.string) == 0)
        let linked = refusal()
        #expect(linked.contains("\(lockPath.string)") && linked.contains("it is a symbolic link; remove it"), "\(linked)")
        unlink(lockPath.string)
        // A FIFO: O_NONBLOCK, so the open does not wait for a writer that never comes.
        #expect(mkfifo(lockPath.string, 0o600) == 0)
        let fifo = refusal()
        #expect(fifo.contains("it is a FIFO; remove it and run the command again"), "\(fifo)")
        unlink(lockPath.string)
        #expect(mkdir(lockPath.string, 0o700) == 0)
        #expect(refusal().contains("it is a directory; remove it"))
        rmdir(lockPath.string)
        writeRaw("", to: lockPath)
        chmod(lockPath.string, 0o644)
        #expect(refusal().contains("it is mode 644, so others can open it"))
        if geteuid() == 0 {  // only root can give a file away
            chmod(lockPath.string, 0o600)
            #expect(chown(lockPath.string, 12_345, 12_345) == 0)
            #expect(refusal().contains("it belongs to uid 12345, not to you (uid 0)"))
        }
        unlink(lockPath.string)
        #expect(link(elsewhere.string, lockPath.string) == 0)
        #expect(refusal().contains("it has 2 names (hard links)"))
        #expect(!FileManager.default.fileExists(atPath: directory.path.appending(DecisionSeal.keyName).string), "no key made meanwhile")
        // Once the bad lock file is gone, the key is made.
        unlink(lockPath.string)
        #expect(refusal() == "made")
    }

    @Test("a decision planted before the host's first command is forged, not unsigned: the audit log never saw it")
    func plantedBeforeTheKey() async throws {
        let sidecar = try sidecar()
        let proposal = makeProposal()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, decidedBy: "alice"))
        #expect(!FileManager.default.fileExists(atPath: directory.path.appending(".decision-key").string))
        let host = root.queue(for: slug())
        #expect(try host.decision(proposal.id) == nil)
        #expect(reports.count == 1)
        #expect(try host.entry(proposal.id).isPending)
    }

    @Test("a missing key is not made again once the root was sealed: the error says what to do")
    func missingKeyOfSealedRoot() throws {
        _ = try DecisionSeal.of(root: directory.path)
        let keyPath = directory.path.appending(".decision-key")
        unlink(keyPath.string)
        DecisionSeal.forgetLoadedKeys()
        #expect {
            _ = try DecisionSeal.of(root: directory.path)
        } throws: { error in
            "\(error)".contains("missing") && "\(error)".contains("backup") && "\(error)".contains(".unsigned-decisions")
        }
        #expect(!FileManager.default.fileExists(atPath: keyPath.string))
    }

    @Test("replaying an older version the host sealed (apply pending) is set aside; the host's latest counts and is put back")
    func replayedOlderVersion() async throws {
        let proposal = makeProposal()
        _ = try await sidecar().submit(proposal)
        let host = root.queue(for: slug())
        try host.decide(
            Decision(
                id: proposal.id, status: .approved, decidedBy: "alice",
                apply: ApplyOutcome(state: .pending, summary: "applying")))
        let path = decisionPath(proposal.id)
        let pending = try text(path)
        try host.recordApply(ApplyOutcome(state: .applied, summary: "written"), for: proposal.id)
        // The sidecar kept the claim and puts it back.
        writeRaw(pending, to: path)
        #expect(try host.applyingEntries().isEmpty, "a replayed pending apply is never recovered")
        #expect(reports.count == 1)
        let decided = try host.decision(proposal.id)
        #expect(decided?.apply?.state == .applied)
        #expect(decided?.origin == .host)
        #expect(try text(path).contains("\"applied\""), "the host's latest version is put back")
    }

    @Test("the host changes only decisions it sealed: never an unsigned one nor the sidecar's withdrawal")
    func changesOnlyItsOwn() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let sidecar = try sidecar()
        let proposal = makeProposal()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .withdrawn, decidedBy: "agent"))
        let host = root.queue(for: slug())
        #expect(try host.decision(proposal.id)?.origin == .sidecar)
        #expect(throws: QueueError.self) { try host.recordGrantEnd(Date(), for: proposal.id) }
        #expect(throws: QueueError.self) {
            try host.recordApply(ApplyOutcome(state: .failed, summary: "x"), for: proposal.id)
        }
        #expect(!(try text(decisionPath(proposal.id))).contains("host_mac"))
        #expect(try host.decision(proposal.id)?.origin == .sidecar)
    }

    @Test("a forgery that keeps the decision's name fails the decision, never reporting the forgery's status")
    func forgeryKeepsReappearing() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let sidecar = try sidecar()
        let proposal = makeProposal()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, decidedBy: "mallory"))
        // Setting it aside fails every time, as if it came back at once.
        writeRaw("not a directory", to: directory.path.appending(".forged-decisions"))
        #expect(throws: QueueError.forgedDecisionsKeepReappearing(proposal.id)) {
            try root.queue(for: slug()).decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "bob"))
        }
        #expect("\(QueueError.forgedDecisionsKeepReappearing(proposal.id))".contains("keeps reappearing"))
    }

    @Test("forgeries are kept and reported up to a limit per proposal; later ones replace one another")
    func forgeriesAreRateLimited() async throws {
        _ = try DecisionSeal.of(root: directory.path)
        let sidecar = try sidecar()
        let proposal = makeProposal()
        _ = try await sidecar.submit(proposal)
        let host = root.queue(for: slug())
        for round in 0..<(DecisionSeal.setAsideLimit + 5) {
            try sidecar.decide(Decision(id: proposal.id, status: .approved, notes: "\(round)", decidedBy: "mallory"))
            #expect(try host.decision(proposal.id) == nil)
        }
        #expect(reports.count == DecisionSeal.setAsideLimit)
        let kept = try FileManager.default.contentsOfDirectory(
            atPath: directory.path.appending(".forged-decisions").appending(slug().rawValue).string)
        #expect(kept.count == DecisionSeal.setAsideLimit + 1)
        #expect(try host.entry(proposal.id).forgedDecision?.notes == "\(DecisionSeal.setAsideLimit + 4)")
    }
}

/// A host command's first look at a queue root's key, on another thread (it may wait on the key
/// lock): its outcome is "made", the error's text, or "hung" when it has not returned in time.
final class KeyLookup: Sendable {
    private let result = Mutex<String>("hung")
    private let finished = DispatchSemaphore(value: 0)

    init(root: FilePath) {
        DecisionSeal.forgetLoadedKeys()
        DispatchQueue.global().async { [self] in
            do {
                _ = try DecisionSeal.of(root: root)
                result.withLock { $0 = "made" }
            } catch {
                result.withLock { $0 = "\(error)" }
            }
            finished.signal()
        }
    }

    func outcome(within seconds: Int) -> String {
        guard finished.wait(timeout: .now() + .seconds(seconds)) == .success else { return "hung" }
        return result.withLock { $0 }
    }
}
