import Foundation
import Queue
import SystemPackage
import Testing

/// Risk hints as the operator sees them in `list`, `list --json` and `show`.
@Suite("Risk hints in the CLI")
struct RiskHintsCLITests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }

    init() {
        scratch.write("api.github.com\n*.co.uk\n", at: "bottles/demo/allowlist")
    }

    func propose(_ file: String, justification: String = "needs it") async throws -> Proposal {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: file, justification: justification,
            currentFileSHA256: SHA256Hex.of("api.github.com\n*.co.uk\n"))
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        return proposal
    }

    func cli(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot)
    }

    @Test("list shows the highest risk; --json lists every hint; show explains each with its line")
    func hintsShown() async throws {
        let risky = try await propose("api.github.com\n*.co.uk\n*.github.io\nwebhook.site\n")
        let plain = try await propose("api.github.com\n*.co.uk\npypi.org\n")

        let table = try cli("list")
        #expect(table.status == 0)
        let rows = table.out.split(separator: "\n")
        #expect(rows.first?.contains("RISK") == true)
        #expect(rows.first { $0.contains(risky.id.rawValue) }?.contains("critical") == true)
        #expect(rows.first { $0.contains(plain.id.rawValue) }?.contains(" - ") == true)

        let json = try cli("list", "--json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let items = try #require(document["proposals"] as? [[String: Any]])
        let item = try #require(items.first { $0["id"] as? String == risky.id.rawValue })
        #expect(item["highest_risk"] as? String == "critical")
        let hints = try #require(item["risk_hints"] as? [[String: Any]])
        // `*.co.uk` was already allowed: only the two added entries are hinted.
        #expect(Set(hints.compactMap { $0["rule"] as? String }) == ["wildcard-public-suffix", "exfiltration-host"])
        #expect(hints.allSatisfy { $0["severity"] as? String == "critical" })
        #expect(Set(hints.compactMap { $0["line"] as? Int }) == [3, 4])
        let other = try #require(items.first { $0["id"] as? String == plain.id.rawValue })
        #expect((other["risk_hints"] as? [Any])?.isEmpty == true)
        #expect(other["highest_risk"] is NSNull)

        let shown = try cli("show", risky.id.rawValue)
        #expect(shown.status == 0)
        #expect(shown.out.contains("CRITICAL line 3: *.github.io allows every site registered under the public suffix github.io"))
        #expect(shown.out.contains("CRITICAL line 4: webhook.site is a request bin"))
        let quiet = try cli("show", plain.id.rawValue)
        #expect(quiet.out.contains("Risk hints none"))
    }
}
