import Apply
import Foundation
import Queue
import Testing

@testable import Console

/// `approvals = N` on an ask rule: read strictly (an ask rule only, 1 to 16,
/// the rule and file named otherwise), and the rule that sets a proposal's
/// count is the first ask rule matching it, whatever its risk.
@Suite("Policy: approvals on ask rules")
struct PolicyApprovalsTests {
    static let holdProd = """
        [[policy.rule]]
        name = "hold-prod"
        bottles = ["*-prod"]
        action = "ask"
        approvals = 2
        """

    static func allowlist(_ proposed: String, bottle: String, current: String = "pypi.org\n") -> Proposal {
        Proposal(
            bottle: try! BottleSlug(bottle), tool: .pipelockBlock, proposedFile: proposed, justification: "needs it",
            currentFileSHA256: SHA256Hex.of(current))
    }

    @Test("an ask rule's approvals is read; a missing key leaves it unset")
    func valid() throws {
        let policy = try HostPolicy.parse(Self.holdProd + "\n[[policy.rule]]\nname = \"plain\"\n", file: "host.toml")
        #expect(policy.rules.map(\.approvals) == [2, nil])
        let most = try HostPolicy.parse("[[policy.rule]]\nname = \"most\"\napprovals = 16\n", file: "host.toml")
        #expect(most.rules.first?.approvals == 16)
    }

    @Test("approvals out of range, of the wrong type, or on an approve or reject rule: an error naming the file, the line and the rule")
    func errors() {
        let cases: [(String, String)] = [
            ("[[policy.rule]]\nname = \"hold\"\naction = \"ask\"\napprovals = 0",
             "host.toml:4: policy.rule[1].approvals (rule \"hold\") must be a whole number from 1 to 16"),
            ("[[policy.rule]]\nname = \"hold\"\napprovals = 17", "host.toml:3: policy.rule[1].approvals (rule \"hold\") must be a whole number from 1 to 16"),
            ("[[policy.rule]]\nname = \"hold\"\napprovals = \"2\"", "(rule \"hold\") must be a whole number from 1 to 16"),
            ("[[policy.rule]]\nname = \"hold\"\napprovals = 2.5", "(rule \"hold\") must be a whole number from 1 to 16"),
            ("[[policy.rule]]\nname = \"docs\"\nhosts = [\"docs.python.org\"]\naction = \"approve\"\napprovals = 2",
             "host.toml:5: policy.rule[1].approvals (rule \"docs\"): approvals = N is for an ask rule"),
            ("[answers]\nno = \"no\"\n[[policy.rule]]\nname = \"nope\"\naction = \"reject\"\nanswer = \"no\"\napprovals = 3",
             "this rule's action is reject"),
            ("[[policy.rule]]\nname = \"hold\"\napproval = 2", "unknown key (did you mean approvals?)"),
        ]
        for (text, expected) in cases {
            let message = PolicySettingsTests.problem(text)
            #expect(message?.contains(expected) == true, "\(text)\n→ \(message ?? "no error")")
        }
    }

    @Test("the first matching ask rule sets the count, for a critical, a warning or a Dockerfile proposal too")
    func matching() throws {
        let policy = try HostPolicy.parse(
            """
            [[policy.rule]]
            name = "docs"
            hosts = ["docs.python.org"]
            action = "approve"
            \(Self.holdProd)
            [[policy.rule]]
            name = "hold-all"
            action = "ask"
            approvals = 5
            """, file: "host.toml")
        func rule(_ proposal: Proposal, current: String? = "pypi.org\n") -> String? {
            PolicyEvaluator.approvalsRule(for: proposal, current: current, policy: policy)?.name
        }
        // Approve rules never set a count; the first ask rule that matches does.
        #expect(rule(Self.allowlist("pypi.org\ndocs.python.org\n", bottle: "web-prod")) == "hold-prod")
        #expect(rule(Self.allowlist("pypi.org\ndocs.python.org\n", bottle: "web-dev")) == "hold-all")
        // A critical proposal (no rule decides it) still needs the rule's approvals: max_risk does not narrow them.
        #expect(rule(Self.allowlist("pypi.org\n169.254.169.254\n", bottle: "web-prod")) == "hold-prod")
        // A Dockerfile needs them too, without capability = true.
        let current = "FROM debian:bookworm-slim\nUSER agent\n"
        let dockerfile = Proposal(
            bottle: try BottleSlug("db-prod"), tool: .capabilityBlock,
            proposedFile: "FROM debian:bookworm-slim\nRUN apt-get install -y jq\nUSER agent\n", justification: "jq",
            currentFileSHA256: SHA256Hex.of(current))
        #expect(rule(dockerfile, current: current) == "hold-prod")

        // An ask rule without approvals keeps its ceilings, and when it matches first it sets one.
        let plainFirst = try HostPolicy.parse(
            "[[policy.rule]]\nname = \"quiet\"\naction = \"ask\"\n" + Self.holdProd, file: "host.toml")
        let harmless = Self.allowlist("pypi.org\nexample.org\n", bottle: "web-prod")
        #expect(PolicyEvaluator.approvalsRule(for: harmless, current: "pypi.org\n", policy: plainFirst)?.name == "quiet")
        let critical = Self.allowlist("pypi.org\n169.254.169.254\n", bottle: "web-prod")
        #expect(PolicyEvaluator.approvalsRule(for: critical, current: "pypi.org\n", policy: plainFirst)?.name == "hold-prod")
        // No ask rule matches: none.
        #expect(PolicyEvaluator.approvalsRule(for: harmless, current: "pypi.org\n", policy: HostPolicy()) == nil)
    }
}
