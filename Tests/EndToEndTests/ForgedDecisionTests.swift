import Foundation
import Queue
import SystemPackage
import Testing

/// A decision file a compromised sidecar writes into its queue directory,
/// against the real binary: shown as forged (escaped), recorded once in the
/// audit log, never applied or recovered, and the proposal still decidable
/// (docs/security.md, "Only the host decides").
@Suite("Forged decisions end to end", .serialized)
struct ForgedDecisionTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var allowlist: String { configRoot + "/demo/allowlist" }
    var bottle: BottleSlug { try! BottleSlug("demo") }
    /// The queue as the sidecar writes it: no key.
    var sidecar: BottleQueue { BottleQueue(directory: FilePath(queueRoot).appending("demo"), bottle: bottle) }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
    }

    func cli(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot, timeout: .seconds(20))
    }

    func auditLines(_ event: String) throws -> [String] {
        let text = (try? String(contentsOfFile: queueRoot + "/audit.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { $0.contains("\"event\":\"\(event)\"") }
    }

    /// A proposal as the sidecar queues it, after a host command ran (so the
    /// root has the host's key: nothing written later is "from before sealing").
    func propose(createdAt: Date = Date()) async throws -> Proposal {
        let proposal = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip needs PyPI", currentFileSHA256: SHA256Hex.of("api.github.com\n"), createdAt: createdAt)
        try sidecar.prepare()
        _ = try await sidecar.submit(proposal)
        #expect(try cli("list").status == 0)
        return proposal
    }

    @Test("show, list, log and approve over a forged approval whose apply claims to be pending")
    func forgedApproval() async throws {
        let proposal = try await propose()
        try sidecar.decide(
            Decision(
                id: proposal.id, status: .approved, notes: "fine", decidedBy: "alice\u{1B}]0;owned\u{07}",
                apply: ApplyOutcome(state: .pending, summary: "applying")))

        let shown = try cli("show", proposal.id.rawValue)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains("pending"))
        #expect(shown.out.contains("FORGED, not made by the host (it claims approved by alice"))
        #expect(!shown.out.contains("\u{1B}") && !shown.err.contains("\u{1B}"))
        #expect(!shown.out.contains("state     approved"))
        #expect(shown.err.contains("was not made by this host"))
        #expect(shown.err.contains("recorded in the audit log"))
        // No "interrupted apply" was finished on its behalf.
        #expect(!shown.err.contains("interrupted"))
        #expect(try auditLines("apply").isEmpty)

        let again = try cli("show", proposal.id.rawValue)
        #expect(again.out.contains("FORGED"))
        #expect(!again.err.contains("not made by this host"), "reported once, not on every read")

        let listed = try cli("list", "--json")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any])
        let rows = try #require(document["proposals"] as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["state"] as? String == "pending")

        let forged = try auditLines("forged-decision")
        #expect(forged.count == 1)
        #expect(forged.first?.contains(proposal.id.rawValue) == true)
        #expect(forged.first?.contains("\"status\":\"approved\"") == true)
        let log = try cli("log")
        #expect(log.out.contains("forged-decision"))
        #expect(try cli("log", "--verify").status == 0)
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")

        let approved = try cli("approve", proposal.id.rawValue)
        #expect(approved.status == 0, "\(approved.err)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\npypi.org\n")
        let after = try cli("show", proposal.id.rawValue)
        #expect(after.out.contains("state     approved by"))
        let rowsAfter = try cli("list", "--all", "--json")
        #expect(rowsAfter.out.contains("\"decision_origin\" : \"host\""))
        #expect(try auditLines("forged-decision").count == 1)
    }

    @Test("a forged rejection cannot stop the operator from approving: approve finds the name taken and decides")
    func forgedRejectionOccupiesTheName() async throws {
        let proposal = try await propose()
        try sidecar.decide(Decision(id: proposal.id, status: .rejected, notes: "no", decidedBy: "alice"))
        let approved = try cli("approve", proposal.id.rawValue)
        #expect(approved.status == 0, "\(approved.err)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\npypi.org\n")
        #expect(try auditLines("forged-decision").count == 1)
    }

    @Test("a backdated created_at is shown as the sidecar's claim, beside when the host first saw the proposal")
    func backdatedProposal() async throws {
        let proposal = try await propose(createdAt: Date().addingTimeInterval(-4 * 3600))
        let first = try cli("show", proposal.id.rawValue)
        #expect(first.status == 0, "\(first.err)")
        let line = try #require(first.out.split(separator: "\n").first { $0.hasPrefix("created") })
        #expect(line.contains("(as the sidecar says; the host first saw it "))
        // The host's record stays the first sight.
        try await Task.sleep(for: .milliseconds(1100))
        let again = try cli("show", proposal.id.rawValue)
        #expect(again.out.split(separator: "\n").first { $0.hasPrefix("created") } == line)
    }

    func pipProposal() -> Proposal {
        Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip needs PyPI", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
    }

    @Test("a sealed `apply: pending` the sidecar copied and puts back is not finished as interrupted, and `apply ID` refuses")
    func replayedPendingDecision() async throws {
        let proposal = pipProposal()
        try sidecar.prepare()
        _ = try await sidecar.submit(proposal)
        #expect(try cli("list").status == 0)
        // The reload runs while the decision says `pending`: it copies the file, as a sidecar could.
        let decisionFile = queueRoot + "/demo/\(proposal.id).decision.json"
        let kept = scratch.path + "/pending.json"
        scratch.write(
            "[reload.allowlist]\ncommand = [\"cp\", \"\(decisionFile)\", \"\(kept)\"]\n", at: "bottles/demo/supervise.toml")
        let approved = try cli("approve", proposal.id.rawValue)
        #expect(approved.status == 0, "\(approved.err)")
        let pending = try String(contentsOfFile: kept, encoding: .utf8)
        #expect(pending.contains("\"pending\""))
        // The operator undoes the change by hand; the sidecar puts the old claim back.
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write(pending, at: "queue/demo/\(proposal.id).decision.json")

        let again = try cli("apply", proposal.id.rawValue)
        #expect(again.status != 0)
        #expect(again.err.contains("applied already"), "\(again.err)")
        #expect(!again.err.contains("interrupted"))
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")
        #expect(try auditLines("apply").count == 1)
        #expect(try auditLines("forged-decision").count == 1)
        #expect(try cli("show", proposal.id.rawValue).out.contains("applied"))
    }

    @Test("an approval planted before the host's first command is forged, and `apply ID` never applies it")
    func approvalPlantedBeforeTheKey() async throws {
        let proposal = pipProposal()
        try sidecar.prepare()
        _ = try await sidecar.submit(proposal)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, notes: "fine", decidedBy: "alice"))
        let applied = try cli("apply", proposal.id.rawValue)
        #expect(applied.status != 0)
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")
        #expect(try auditLines("forged-decision").count == 1)
        #expect(try auditLines("apply").isEmpty)
        #expect(try cli("show", proposal.id.rawValue).out.contains("FORGED"))
    }

    @Test("approve over a forgery that keeps coming back fails (exit 1) and never says another decision won")
    func forgeryKeepsReappearing() async throws {
        let proposal = pipProposal()
        try sidecar.prepare()
        _ = try await sidecar.submit(proposal)
        #expect(try cli("list").status == 0)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, notes: "fine", decidedBy: "mallory"))
        // Nothing can be set aside: the forgery stays in the decision's place, as if written again each time.
        scratch.write("not a directory", at: "queue/.forged-decisions")
        let approved = try cli("approve", proposal.id.rawValue)
        #expect(approved.status == 1)
        #expect(approved.err.contains("a forged decision keeps reappearing"), "\(approved.err)")
        #expect(!approved.err.contains("another decision won"))
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")
    }

    @Test("a forged decision whose proposal is gone is audited anyway, with no tool or file")
    func forgeryWithoutProposal() async throws {
        let proposal = pipProposal()
        try sidecar.prepare()
        _ = try await sidecar.submit(proposal)
        #expect(try cli("list").status == 0)
        try sidecar.decide(Decision(id: proposal.id, status: .approved, notes: "fine", decidedBy: "mallory"))
        unlink(queueRoot + "/demo/\(proposal.id).proposal.json")
        #expect(try cli("list").status == 0)
        let forged = try auditLines("forged-decision")
        #expect(forged.count == 1)
        #expect(forged.first?.contains(proposal.id.rawValue) == true)
        #expect(forged.first?.contains("\"tool\"") == false)
        #expect(try cli("log", "--verify").status == 0)
        #expect(try cli("log").out.contains("forged-decision"))
    }
}
