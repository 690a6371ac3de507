import Apply
import Foundation
import Queue
import SystemPackage
import Testing

/// Control characters an attacker would plant: ESC sequences (CSI, OSC retitling the
/// terminal), CSI as the one C1 code U+009B, BEL, a bidi override, a zero-width space, DEL.
private let hostile = "x\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\u{202E}gro.\u{200B}\u{7F}y"

/// Scalars that may not reach a terminal raw, found in `text` (newlines are layout).
private func rawControls(_ text: String) -> [String] {
    text.unicodeScalars.filter { $0 != "\n" && Escaped.mustEscape($0) }.map {
        "U+" + String($0.value, radix: 16, uppercase: true)
    }
}

/// The escaper's promise, checked on what the real binary prints: every
/// queue-controlled field of a proposal, a decision and the audit log, and
/// the error messages about a malformed file.
@Suite("Escaping end to end")
struct EscapingTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
    }

    func cli(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot, timeout: .seconds(60))
    }

    /// Writes a queue record as the sidecar (or an attacker with its mount) could.
    func plant(_ record: [String: Any], as name: String) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        scratch.write(String(decoding: data, as: UTF8.self), at: "queue/demo/\(name)")
    }

    func proposalRecord(_ id: ProposalID, createdAt: String = "2026-11-25T02:49:03.125Z") -> [String: Any] {
        [
            "format": 1, "id": id.rawValue, "bottle": "demo", "tool": "pipelock-block",
            "proposed_file": "api.github.com\n\(hostile)\n", "justification": "first \(hostile)\nsecond \(hostile)",
            "current_file_sha256": hostile, "proposed_file_sha256": hostile, "created_at": createdAt,
            "expires_at": "2099-01-01T00:00:00.000Z",
        ]
    }

    @Test("control bytes in every field of a proposal and its decision: list, list --json and show print none raw")
    func proposalAndDecisionFields() throws {
        let id = ProposalID.generate()
        try plant(proposalRecord(id), as: "\(id).proposal.json")
        try plant(
            [
                "format": 1, "id": id.rawValue, "status": "rejected", "notes": "no \(hostile)", "decided_by": hostile,
                "decided_at": "2026-11-25T02:50:03.125Z",
                "apply": [
                    "state": "skipped", "summary": "summary \(hostile)", "command": [hostile],
                    "output_tail": "tail \(hostile)", "previous_sha256": hostile, "new_sha256": hostile,
                ],
            ], as: "\(id).decision.json")
        for arguments in [["list", "--all"], ["show", id.rawValue]] {
            let result = try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot, timeout: .seconds(60))
            #expect(rawControls(result.out).isEmpty, "\(arguments) stdout: \(rawControls(result.out))")
            #expect(rawControls(result.err).isEmpty, "\(arguments) stderr: \(rawControls(result.err))")
        }
        let shown = try cli("show", id.rawValue)
        if shown.status == 0 {
            // What the operator reviews is visible, escaped, not dropped.
            #expect(shown.out.contains("first x\\e[2J\\e]0;owned\\x07\\x9b31m\\u{202e}gro.\\u{200b}\\x7fy"))
        }
        let json = try cli("list", "--all", "--json")
        #expect(rawControls(json.out).isEmpty, "list --json: \(rawControls(json.out))")
        #expect(rawControls(json.err).isEmpty)
        if json.status == 0, !json.out.isEmpty {
            // Valid JSON a script parses back to the very strings the queue holds.
            let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
            let items = try #require(document["proposals"] as? [[String: Any]])
            if let item = items.first(where: { $0["id"] as? String == id.rawValue }) {
                #expect(item["justification"] as? String == "first \(hostile)\nsecond \(hostile)")
                #expect(item["decided_by"] as? String == hostile)
                #expect(item["notes"] as? String == "no \(hostile)")
            }
        }
    }

    @Test("a malformed field's value quoted in an error (list's warning, show's failure) is escaped and clipped")
    func errorPaths() throws {
        let id = ProposalID.generate()
        let forged = "2026\(hostile)" + String(repeating: "9", count: 100_000)
        try plant(proposalRecord(id, createdAt: forged), as: "\(id).proposal.json")
        let listed = try cli("list")
        #expect(rawControls(listed.out).isEmpty)
        #expect(rawControls(listed.err).isEmpty, "list stderr: \(rawControls(listed.err))")
        #expect(listed.err.contains("created_at"))
        #expect(listed.err.utf8.count < 4096, "a 100 KB field value must not be echoed whole")
        let shown = try cli("show", id.rawValue)
        #expect(shown.status != 0)
        #expect(rawControls(shown.err).isEmpty, "show stderr: \(rawControls(shown.err))")
        #expect(shown.err.contains("\\e]0;owned\\x07"))
        #expect(rawControls(shown.out).isEmpty)
    }

    @Test("log and log --json print no raw control character from any record field, and --json parses back")
    func auditLog() throws {
        let log = AuditLog(queueRoot: FilePath(queueRoot))
        try log.append(
            AuditRecord(
                event: .apply, by: hostile, bottle: try BottleSlug("demo"), file: .allowlist, tool: .pipelockBlock,
                id: .generate(), status: hostile, oldSHA256: hostile, newSHA256: hostile,
                apply: ApplyOutcome(
                    state: .failed, summary: "reload failed \(hostile)", command: [hostile], exitStatus: 1,
                    outputTail: "output \(hostile)")))
        let table = try cli("log")
        #expect(table.status == 0)
        #expect(rawControls(table.out).isEmpty, "log: \(rawControls(table.out))")
        #expect(table.out.contains("reload failed x\\e[2J"))
        let json = try cli("log", "--json")
        #expect(json.status == 0)
        #expect(rawControls(json.out).isEmpty, "log --json: \(rawControls(json.out))")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(json.out.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(record["by"] as? String == hostile)
        #expect((record["apply"] as? [String: Any])?["output_tail"] as? String == "output \(hostile)")
        let verify = try cli("log", "--verify")
        #expect(verify.status == 0)
    }
}
