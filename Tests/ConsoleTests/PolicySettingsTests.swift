import Apply
import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

@testable import Console

/// `[[policy.rule]]` and `[answers]` are read strictly, and a mistake is named
/// by file, line and key.
@Suite("Policy: the settings file")
struct PolicySettingsTests {
    static func problem(_ text: String) -> String? {
        do {
            _ = try HostPolicy.parse(text, file: "host.toml")
            return nil
        } catch {
            return error.message
        }
    }

    @Test("each mistake is an error naming the line and the key")
    func errors() {
        let cases: [(String, String)] = [
            ("[[policy.rule]]\nname = \"a\"\nhost = [\"x.example\"]\naction = \"approve\"", "host.toml:3: policy.rule[1].host: unknown key (did you mean hosts?)"),
            ("[[policy.rule]]\naction = \"approve\"", "needs a name"),
            ("[[policy.rule]]\nname = \"a b\"", "policy.rule[1].name"),
            ("[[policy.rule]]\nname = \"a\"\naction = \"allow\"", "host.toml:3: policy.rule[1].action must be"),
            ("[[policy.rule]]\nname = \"a\"\nhosts = [\"*\"]\naction = \"approve\"", "host.toml:3: policy.rule[1].hosts"),
            ("[[policy.rule]]\nname = \"a\"\nhosts = [\"x.example\"]\naction = \"approve\"\nfor = \"1.5h\"", "host.toml:5: policy.rule[1].for"),
            ("[[policy.rule]]\nname = \"a\"\nhosts = [\"x.example\"]\naction = \"approve\"\nfor = \"1h30m\"", "policy.rule[1].for"),
            ("[[policy.rule]]\nname = \"a\"\naction = \"approve\"", "must name what it approves"),
            ("[[policy.rule]]\nname = \"a\"\naction = \"reject\"", "needs answer"),
            ("[[policy.rule]]\nname = \"a\"\naction = \"reject\"\nanswer = \"missing\"", "no preset answer \"missing\""),
            ("[[policy.rule]]\nname = \"a\"\ntool = \"pipelock\"", "is not a tool"),
            ("[[policy.rule]]\nname = \"a\"\ntool = \"pipelock-block\"\nupstreams = [\"x.example\"]", "not about cred-proxy-block"),
            ("[[policy.rule]]\nname = \"a\"\nmax_risk = \"critical\"", "no rule decides a proposal with a critical risk hint"),
            ("[[policy.rule]]\nname = \"a\"\n[[policy.rule]]\nname = \"a\"", "host.toml:3: the rule name \"a\" is already used at host.toml:1"),
            ("[policy.rule]\nname = \"a\"", "[[policy.rule]]"),
            ("[policy]\nrules = 1", "unknown key policy.rules"),
            ("[answers]\nuse-mirror = \"\"", "host.toml:2: answers.use-mirror is empty"),
            ("[answers]\nuse-mirror = 3", "answers.use-mirror must be a string"),
            ("[[policy.rule]]\nname = \"a\"\nbottles = [\"web/*\"]", "not a bottle glob"),
            ("[[policy.rule]]\nname = \"a\"\nhosts = []\naction = \"approve\"", "is empty"),
            ("[[policy.rule]\nname = 1", "host.toml:1"),
        ]
        for (text, expected) in cases {
            let message = Self.problem(text)
            #expect(message?.contains(expected) == true, "\(text)\n→ \(message ?? "no error")")
        }
    }

    @Test("a valid policy: rules in order with every key; other tables are left alone")
    func valid() throws {
        let text = """
            [notify]
            desktop = true

            [answers]
            use-mirror = "Use the internal mirror."

            [[policy.rule]]
            name = "docs"
            bottles = "web-*"
            tool = ["pipelock-block", "cred-proxy-block"]
            hosts = ["Docs.Python.org"]
            upstreams = ["api.github.com"]
            credentials = ["gh"]
            methods = ["get"]
            routes = ['{"path": "/x/", "upstream": "https://x.example"}']
            max_risk = "warning"
            action = "approve"
            for = "2d"
            answer = "use-mirror"

            [[policy.rule]]
            name = "no-pypi"
            hosts = ["pypi.org"]
            action = "reject"
            answer = "use-mirror"
            """
        let policy = try HostPolicy.parse(text, file: "host.toml")
        #expect(policy.rules.map(\.name) == ["docs", "no-pypi"])
        let docs = policy.rules[0]
        #expect(docs.bottles == ["web-*"])
        #expect(docs.tools == [.pipelockBlock, .credProxyBlock])
        #expect(docs.hosts?.map(\.text) == ["docs.python.org"])
        #expect(docs.methods == ["GET"])
        #expect(docs.routes?.count == 1)
        #expect(docs.maxRisk == .warning)
        #expect(docs.grant == GrantDuration(seconds: 2 * 86400))
        #expect(docs.origin == "host.toml:7")
        #expect(policy.answers == ["use-mirror": "Use the internal mirror."])
        #expect(try policy.answerText("use-mirror") == "Use the internal mirror.")
        #expect(throws: PolicyProblem.self) { try policy.answerText("nope") }
        #expect(policy.rules[1].action == .reject)
        // No policy tables at all: an empty policy, not an error.
        #expect(try HostPolicy.parse("[notify]\ndesktop = true", file: "h").rules.isEmpty)
    }

    @Test("a rule's `for`: the grants' duration, a whole number and one unit")
    func durations() throws {
        func rule(_ duration: String) throws -> PolicyRule {
            try HostPolicy.parse(
                "[[policy.rule]]\nname = \"r\"\ntool = \"pipelock-block\"\nhosts = [\"a.example\"]\naction = \"approve\"\nfor = \"\(duration)\"\n",
                file: "h"
            ).rules[0]
        }
        #expect(try rule("90s").grant == GrantDuration(seconds: 90))
        #expect(try rule("30m").grant == GrantDuration(seconds: 1800))
        #expect(try rule("8h").grant == GrantDuration(seconds: 28800))
        #expect(try rule("2d").grant == GrantDuration(seconds: 172_800))
        for bad in ["", "h", "0h", "-1h", "1.5h", "1h30m", " 1h", "1H", "1w", "366d", "99999999999s", "１h"] {
            #expect(throws: PolicyProblem.self, "\(bad)") { try rule(bad) }
        }
    }

    @Test("remembered rules: exactly the hosts added, for that bottle; written beside host.toml and read back after it")
    func remembered() throws {
        let directory = FilePath(NSTemporaryDirectory()).appending("remember-\(UUID().uuidString.prefix(8))")
        try AtomicFile.makeDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let settings = directory.appending("host.toml")
        try AtomicFile.write(Data("[[policy.rule]]\nname = \"first\"\nbottles = [\"x\"]\naction = \"ask\"\n".utf8), to: settings)
        let proposal = Proposal(
            bottle: try BottleSlug("web-1"), tool: .pipelockBlock, proposedFile: "pypi.org\nDocs.Python.org\n",
            justification: "docs", currentFileSHA256: SHA256Hex.of("pypi.org\n"))
        let rule = try RememberedRules.rule(for: proposal, current: "pypi.org\n", grant: nil)
        try RememberedRules.append(rule, besides: settings, proposal: proposal.id, by: "alice \"quoted\"")
        let policy = try HostPolicy.load(settings: settings)
        #expect(policy.rules.map(\.name) == ["first", rule.name])
        let loaded = policy.rules[1]
        #expect(loaded.bottles == ["web-1"])
        #expect(loaded.hosts?.map(\.text) == ["docs.python.org"])
        #expect(loaded.action == .approve)
        #expect(loaded.origin.hasSuffix("policy-remembered.toml:4"), "\(loaded.origin)")
        // It approves the same addition again for that bottle, and nothing else.
        let again = Proposal(
            bottle: try BottleSlug("web-1"), tool: .pipelockBlock, proposedFile: "pypi.org\ndocs.python.org\n",
            justification: "docs", currentFileSHA256: SHA256Hex.of("pypi.org\n"))
        #expect(PolicyEvaluator.evaluate(again, current: "pypi.org\n", policy: policy).rule?.name == rule.name)
        let elsewhere = Proposal(
            bottle: try BottleSlug("web-2"), tool: .pipelockBlock, proposedFile: "pypi.org\ndocs.python.org\n",
            justification: "docs", currentFileSHA256: SHA256Hex.of("pypi.org\n"))
        #expect(PolicyEvaluator.evaluate(elsewhere, current: "pypi.org\n", policy: policy).rule == nil)
        // host.toml itself is untouched.
        #expect(try HostPolicy.read(settings) == "[[policy.rule]]\nname = \"first\"\nbottles = [\"x\"]\naction = \"ask\"\n")
        // Routes are remembered as the exact routes added.
        let routes = Proposal(
            bottle: try BottleSlug("web-1"), tool: .credProxyBlock,
            proposedFile: #"{"routes": [{"path": "/a/", "upstream": "https://pypi.org"}]}"#, justification: "x",
            currentFileSHA256: nil)
        let routeRule = try RememberedRules.rule(for: routes, current: nil, grant: GrantDuration(seconds: 3600))
        #expect(routeRule.routes?.count == 1)
        try RememberedRules.append(routeRule, besides: settings, proposal: routes.id, by: "alice")
        #expect(try HostPolicy.load(settings: settings).rules.last?.grant?.description == "1h")
        // Nothing critical, nothing that removes, no Dockerfile.
        let critical = Proposal(
            bottle: try BottleSlug("web-1"), tool: .pipelockBlock, proposedFile: "pypi.org\npastebin.com\n",
            justification: "x", currentFileSHA256: SHA256Hex.of("pypi.org\n"))
        #expect(throws: PolicyProblem.self) { try RememberedRules.rule(for: critical, current: "pypi.org\n", grant: nil) }
        let removes = Proposal(
            bottle: try BottleSlug("web-1"), tool: .pipelockBlock, proposedFile: "docs.python.org\n",
            justification: "x", currentFileSHA256: SHA256Hex.of("pypi.org\n"))
        #expect(throws: PolicyProblem.self) { try RememberedRules.rule(for: removes, current: "pypi.org\n", grant: nil) }
    }
}
