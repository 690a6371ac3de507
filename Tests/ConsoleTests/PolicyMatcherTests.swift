import Apply
import Foundation
import Queue
import Testing

@testable import Console

/// What an approve rule lets through, and every way an agent might shape a
/// proposal to get more past it.
@Suite("Policy: the matcher")
struct PolicyMatcherTests {
    static let docsRule = """
        [answers]
        use-mirror = "Use the internal mirror at pypi.internal.example instead; it is already allowed."

        [[policy.rule]]
        name = "docs"
        bottles = ["web-*"]
        tool = "pipelock-block"
        hosts = ["*.readthedocs.io", "docs.python.org"]
        max_risk = "notice"
        action = "approve"
        for = "8h"
        """

    static func policy(_ text: String = docsRule) throws -> HostPolicy {
        try HostPolicy.parse(text, file: "host.toml")
    }

    static func allowlist(_ proposed: String, current: String? = "pypi.org\n", bottle: String = "web-1") -> Proposal {
        Proposal(
            bottle: try! BottleSlug(bottle), tool: .pipelockBlock, proposedFile: proposed, justification: "docs",
            currentFileSHA256: current.map { SHA256Hex.of($0) })
    }

    static func verdict(_ proposal: Proposal, current: String?, _ policy: HostPolicy) -> PolicyEvaluator.Verdict {
        PolicyEvaluator.evaluate(proposal, current: current, policy: policy)
    }

    @Test("a plain addition of named hosts is approved by the rule, with its duration")
    func approves() throws {
        let policy = try Self.policy()
        for added in ["docs.python.org", "DOCS.Python.ORG", "a.readthedocs.io", "x.y.readthedocs.io"] {
            let proposal = Self.allowlist("pypi.org\n\(added)\n")
            let verdict = Self.verdict(proposal, current: "pypi.org\n", policy)
            #expect(verdict.rule?.name == "docs", "\(added): \(verdict.reason) \(verdict.passed)")
            #expect(verdict.action == .approve)
            #expect(verdict.rule?.grant == GrantDuration(seconds: 8 * 3600))
        }
        // Comments, blank lines and order are not changes of what is allowed.
        let reordered = Self.allowlist("# docs\n\ndocs.python.org\n  pypi.org  \n")
        #expect(Self.verdict(reordered, current: "pypi.org\n", policy).rule?.name == "docs")
    }

    @Test("anything the rule does not name asks: other hosts, look-alikes, wider wildcards, the bare domain")
    func evasions() throws {
        let policy = try Self.policy()
        for added in [
            "evil.com",
            "readthedocs.io",  // the domain itself: *.readthedocs.io covers names under it only
            "evilreadthedocs.io",  // a suffix without the dot
            "readthedocs.io.evil.com",
            "docs.python.org.evil.com",
            "python.org",
            "*.python.org",  // wider than the exact name
            "*.docs.python.org",  // an exact name does not cover its subdomains
            "xn--dcs-python-x9a.org",  // punycode look-alike
            "docs-python.org",
            "*.io",  // refused by the validator anyway
        ] {
            let proposal = Self.allowlist("pypi.org\n\(added)\n")
            let verdict = Self.verdict(proposal, current: "pypi.org\n", policy)
            #expect(verdict.rule == nil, "\(added) was approved")
        }
        // One named host and one not: the whole proposal asks.
        let mixed = Self.allowlist("pypi.org\ndocs.python.org\nevil.com\n")
        #expect(Self.verdict(mixed, current: "pypi.org\n", policy).rule == nil)
    }

    @Test("a proposal that also removes a host asks, even when what it adds is named")
    func removalsAsk() throws {
        let policy = try Self.policy()
        let proposal = Self.allowlist("docs.python.org\n", current: "pypi.org\n")
        let verdict = Self.verdict(proposal, current: "pypi.org\n", policy)
        #expect(verdict.rule == nil)
        #expect(verdict.passed.first?.reason.contains("removes pypi.org") == true, "\(verdict.passed)")
        // A proposal that changes nothing allowed (only a comment) adds nothing: a human looks.
        let comment = Self.allowlist("pypi.org\n# hello\n")
        #expect(Self.verdict(comment, current: "pypi.org\n", policy).rule == nil)
    }

    @Test("text the validator refuses never reaches a rule: trailing dots, inline comments, duplicates, Unicode, spaces")
    func refusedText() throws {
        let policy = try Self.policy()
        for proposed in [
            "pypi.org\ndocs.python.org.\n",
            "pypi.org\ndocs.python.org # ok\n",
            "pypi.org\ndocs.python.org\nDOCS.PYTHON.ORG\n",
            "pypi.org\ndocs.pythön.org\n",
            "pypi.org\ndocs.python.org evil.com\n",
            "pypi.org\nhttps://docs.python.org\n",
            "pypi.org\ndocs.python.org:443\n",
        ] {
            #expect(Self.verdict(Self.allowlist(proposed), current: "pypi.org\n", policy).rule == nil, "\(proposed)")
        }
    }

    @Test("scope: another bottle, another tool, or a riskier proposal than max_risk asks")
    func scope() throws {
        let policy = try Self.policy()
        #expect(Self.verdict(Self.allowlist("pypi.org\ndocs.python.org\n", bottle: "api-1"), current: "pypi.org\n", policy).rule == nil)
        // *.a.readthedocs.io as an added wildcard is a "wildcard" warning (a.readthedocs.io is a
        // registrable domain, readthedocs.io a public suffix): above notice.
        let wide = Self.allowlist("pypi.org\n*.a.readthedocs.io\n")
        let verdict = Self.verdict(wide, current: "pypi.org\n", policy)
        #expect(verdict.rule == nil)
        #expect(verdict.passed.first?.reason.contains("max_risk") == true, "\(verdict.passed)")
        let warningOK = try Self.policy(Self.docsRule.replacingOccurrences(of: "max_risk = \"notice\"", with: "max_risk = \"warning\""))
        #expect(Self.verdict(wide, current: "pypi.org\n", warningOK).rule?.name == "docs")
    }

    @Test("floors: a critical hint is never decided by a rule, whatever the rule says")
    func criticalFloor() throws {
        let text = """
            [answers]
            no = "no"
            [[policy.rule]]
            name = "everything"
            hosts = ["*.ngrok-free.app", "*.co.uk", "pastebin.com", "*.example.com"]
            max_risk = "warning"
            action = "approve"
            [[policy.rule]]
            name = "reject-all"
            action = "reject"
            answer = "no"
            """
        let policy = try Self.policy(text)
        for added in ["abc.ngrok-free.app", "*.co.uk", "pastebin.com", "10.0.0.5", "169.254.169.254"] {
            // (the rule's *.example.com does not cover these; the floor speaks before any rule is tried)
            let verdict = Self.verdict(Self.allowlist("pypi.org\n\(added)\n"), current: "pypi.org\n", policy)
            #expect(verdict.rule == nil, "\(added): \(verdict.reason)")
            #expect(verdict.reason.contains("critical"), "\(verdict.reason)")
        }
        // The issue's own example rule names *.readthedocs.io; added as a wildcard it is one over a
        // public suffix: critical, so the rule does not decide it.
        let docs = try Self.policy()
        let wildcard = Self.verdict(Self.allowlist("pypi.org\n*.readthedocs.io\n"), current: "pypi.org\n", docs)
        #expect(wildcard.rule == nil)
        #expect(wildcard.reason.contains("critical"))
        // A rule cannot even say it may: max_risk = "critical" is refused.
        #expect(throws: PolicyProblem.self) {
            try Self.policy("[[policy.rule]]\nname = \"x\"\nhosts = [\"a.example\"]\nmax_risk = \"critical\"\naction = \"approve\"")
        }
    }

    @Test("floors: a Dockerfile only by a rule with capability = true; removed instructions ask")
    func dockerfileFloor() throws {
        let current = "FROM debian:bookworm-slim\nUSER agent\n"
        let proposed = "FROM debian:bookworm-slim\nRUN apt-get install -y jq\nUSER agent\n"
        let proposal = Proposal(
            bottle: try BottleSlug("web-1"), tool: .capabilityBlock, proposedFile: proposed, justification: "jq",
            currentFileSHA256: SHA256Hex.of(current))
        let without = try Self.policy("[[policy.rule]]\nname = \"any\"\nhosts = [\"a.example\"]\naction = \"approve\"")
        #expect(Self.verdict(proposal, current: current, without).rule == nil)
        let with = try Self.policy(
            "[[policy.rule]]\nname = \"tools\"\ntool = \"capability-block\"\ncapability = true\nmax_risk = \"warning\"\naction = \"approve\"")
        let verdict = Self.verdict(proposal, current: current, with)
        #expect(verdict.rule?.name == "tools", "\(verdict.reason) \(verdict.passed)")
        // Dropping USER is a change, not an addition.
        let dropped = Proposal(
            bottle: try BottleSlug("web-1"), tool: .capabilityBlock, proposedFile: "FROM debian:bookworm-slim\nRUN apt-get install -y jq\n",
            justification: "jq", currentFileSHA256: SHA256Hex.of(current))
        #expect(Self.verdict(dropped, current: current, with).rule == nil)
        // And capability rules cannot be time-boxed.
        #expect(throws: PolicyProblem.self) {
            try Self.policy(
                "[[policy.rule]]\nname = \"t\"\ntool = \"capability-block\"\ncapability = true\naction = \"approve\"\nfor = \"1h\"")
        }
    }

    @Test("a proposal made against another version of the file asks")
    func staleProposal() throws {
        let policy = try Self.policy()
        let proposal = Self.allowlist("pypi.org\ndocs.python.org\n", current: "pypi.org\n")
        // The bottle's file changed since: pypi.org was removed by someone else.
        let verdict = Self.verdict(proposal, current: "other.example\n", policy)
        #expect(verdict.rule == nil)
        #expect(verdict.reason.contains("changed since"))
    }

    @Test("order: the first matching rule decides; ask stops the search; each earlier miss is explained")
    func order() throws {
        let text = """
            [answers]
            nope = "Not from this bottle."
            [[policy.rule]]
            name = "hold-prod"
            bottles = ["web-prod"]
            action = "ask"
            [[policy.rule]]
            name = "no-gists"
            hosts = ["gist.githubusercontent.com"]
            action = "reject"
            answer = "nope"
            [[policy.rule]]
            name = "docs"
            hosts = ["docs.python.org", "gist.githubusercontent.com"]
            action = "approve"
            """
        let policy = try Self.policy(text)
        let prod = Self.verdict(Self.allowlist("pypi.org\ndocs.python.org\n", bottle: "web-prod"), current: "pypi.org\n", policy)
        #expect(prod.rule == nil)
        #expect(prod.reason.contains("hold-prod"))
        let gist = Self.verdict(Self.allowlist("pypi.org\ngist.githubusercontent.com\ndocs.python.org\n"), current: "pypi.org\n", policy)
        #expect(gist.rule?.name == "no-gists")
        #expect(gist.action == .reject)
        let docs = Self.verdict(Self.allowlist("pypi.org\ndocs.python.org\n"), current: "pypi.org\n", policy)
        #expect(docs.rule?.name == "docs")
        #expect(docs.passed.map(\.rule) == ["hold-prod", "no-gists"])
    }

    // MARK: - Routes

    static let routesRule = """
        [[policy.rule]]
        name = "github-read"
        tool = "cred-proxy-block"
        upstreams = ["api.github.com"]
        credentials = ["github-ro"]
        methods = ["GET", "HEAD"]
        action = "approve"
        max_risk = "warning"
        """

    /// api.github.com already gets the github-ro credential (so adding another such route is no
    /// `credential-new-host`, which is critical and left to a human whatever a rule says).
    static let existing =
        #"{"path": "/pypi/", "upstream": "https://pypi.org"}, "#
        + #"{"path": "/gh/repos/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"]}"#
    static let currentRoutes = "{\"routes\": [\(existing)]}"

    static func routes(_ added: String, current: String = currentRoutes) -> Proposal {
        let proposed = "{\"routes\": [\(existing), \(added)]}"
        return Proposal(
            bottle: try! BottleSlug("web-1"), tool: .credProxyBlock, proposedFile: proposed, justification: "gh",
            currentFileSHA256: SHA256Hex.of(current))
    }

    @Test("routes: an added route to a named upstream with a named credential and methods is approved")
    func routeApproved() throws {
        let policy = try Self.policy(Self.routesRule)
        for route in [
            #"{"path": "/search/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"]}"#,
            #"{"path": "/search/", "URL": "https://API.GitHub.com:443/v3/", "methods": ["get", "HEAD"], "name": "gh"}"#,
        ] {
            let verdict = Self.verdict(Self.routes(route), current: Self.currentRoutes, policy)
            #expect(verdict.rule?.name == "github-read", "\(route): \(verdict.reason) \(verdict.passed)")
        }
    }

    @Test("routes: every way of reaching further than the rule names asks")
    func routeEvasions() throws {
        let policy = try Self.policy(Self.routesRule)
        for route in [
            #"{"path": "/gh/", "upstream": "https://evil.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com@evil.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://evil.com\\@api.github.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com.", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com.evil.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api%2egithub.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://аpi.github.com", "methods": ["GET"]}"#,  // Cyrillic a
            #"{"path": "/gh/", "upstream": "//api.github.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "ftp://api.github.com", "methods": ["GET"]}"#,
            // Keyed twice, in different case: which one cred-proxy reads is not ours to guess.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "Upstream": "https://evil.com", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "url": "https://evil.com", "methods": ["GET"]}"#,
            // A credential the rule does not name, or not as a plain name.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-admin", "methods": ["GET"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "headers": {"Authorization": "x"}, "methods": ["GET"]}"#,
            // Methods beyond the rule's, or none named (every method).
            #"{"path": "/gh/", "upstream": "https://api.github.com", "methods": ["GET", "DELETE"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com"}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "methods": "*"}"#,
            // A member no rule can judge.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "methods": ["GET"], "forward_to": "https://evil.com"}"#,
        ] {
            let verdict = Self.verdict(Self.routes(route), current: Self.currentRoutes, policy)
            #expect(verdict.rule == nil, "approved: \(route)")
        }
    }

    @Test("routes: changing an existing route (its credential, its upstream) or the rest of the file asks")
    func routeChanges() throws {
        let policy = try Self.policy(
            Self.routesRule.replacingOccurrences(of: "upstreams = [\"api.github.com\"]", with: "upstreams = [\"api.github.com\", \"pypi.org\"]"))
        // The existing github route's methods change: a removal and an addition, not an addition.
        let changed =
            #"{"routes": [{"path": "/pypi/", "upstream": "https://pypi.org"}, "#
            + #"{"path": "/gh/repos/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["HEAD"]}]}"#
        let proposal = Proposal(
            bottle: try BottleSlug("web-1"), tool: .credProxyBlock, proposedFile: changed, justification: "x",
            currentFileSHA256: SHA256Hex.of(Self.currentRoutes))
        let verdict = Self.verdict(proposal, current: Self.currentRoutes, policy)
        #expect(verdict.rule == nil)
        #expect(verdict.passed.first?.reason.contains("removes or changes the route") == true, "\(verdict.passed)")
        // The existing route's credential swapped for one the rule does name: still a change, not an addition.
        let swapped = Proposal(
            bottle: try BottleSlug("web-1"), tool: .credProxyBlock,
            proposedFile: #"{"routes": [{"path": "/pypi/", "upstream": "https://pypi.org"}, "#
                + #"{"path": "/gh/repos/", "upstream": "https://api.github.com", "credential": "github-admin", "methods": ["GET"]}]}"#,
            justification: "x", currentFileSHA256: SHA256Hex.of(Self.currentRoutes))
        let broad = try Self.policy(Self.routesRule.replacingOccurrences(of: "credentials = [\"github-ro\"]", with: "credentials = [\"github-ro\", \"github-admin\"]"))
        #expect(Self.verdict(swapped, current: Self.currentRoutes, broad).rule == nil)
        // A new top-level member beside the routes.
        let other =
            "{\"routes\": [\(Self.existing), "
            + #"{"path": "/search/", "upstream": "https://api.github.com", "methods": ["GET"]}], "default_upstream": "https://evil.com"}"#
        let widened = Proposal(
            bottle: try BottleSlug("web-1"), tool: .credProxyBlock, proposedFile: other, justification: "x",
            currentFileSHA256: SHA256Hex.of(Self.currentRoutes))
        #expect(Self.verdict(widened, current: Self.currentRoutes, policy).rule == nil)
    }

    @Test("routes: an empty methods list, or methods named twice, is never read as the rule's methods")
    func routeMethodShapes() throws {
        let policy = try Self.policy(Self.routesRule)
        for route in [
            // An empty list: cred-proxy may read it as "no restriction", so it is no narrower than every method.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": []}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "method": []}"#,
            // Two method members: which one cred-proxy reads is its own business.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "method": "GET", "methods": ["DELETE"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"], "Method": "POST"}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"], "method": []}"#,
            // A key that Unicode case folding (Go's encoding/json) reads as "methods": refused, not ignored.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"], "methodſ": ["DELETE"]}"#,
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": ["GET"], "\u006dethods": ["DELETE"]}"#,
            // No methods member at all is every method.
            #"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro"}"#,
        ] {
            let verdict = Self.verdict(Self.routes(route), current: Self.currentRoutes, policy)
            #expect(verdict.rule == nil, "approved: \(route)")
        }
        let empty = Self.verdict(
            Self.routes(#"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": []}"#),
            current: Self.currentRoutes, policy)
        #expect(empty.passed.first?.reason.contains("names no methods") == true, "\(empty.passed)")
        let twice = Self.verdict(
            Self.routes(#"{"path": "/gh/", "upstream": "https://api.github.com", "method": "GET", "methods": ["GET"]}"#),
            current: Self.currentRoutes, policy)
        #expect(twice.passed.first?.reason.contains("methods twice") == true, "\(twice.passed)")
        // A rule that allows every method (`*`, or no methods key) still approves an empty list.
        let every = try Self.policy(Self.routesRule.replacingOccurrences(of: "methods = [\"GET\", \"HEAD\"]", with: "methods = [\"*\"]"))
        let emptyUnderEvery = Self.verdict(
            Self.routes(#"{"path": "/gh/", "upstream": "https://api.github.com", "credential": "github-ro", "methods": []}"#),
            current: Self.currentRoutes, every)
        #expect(emptyUnderEvery.rule?.name == "github-read", "\(emptyUnderEvery.reason) \(emptyUnderEvery.passed)")
    }

    @Test("routes: a credential over http:// (or no scheme) asks unless the rule says allow_http = true")
    func routeCleartextCredential() throws {
        let policy = try Self.policy(Self.routesRule)
        for upstream in ["http://api.github.com", "HTTP://api.github.com:80/v3/", "api.github.com"] {
            let route = #"{"path": "/gh/", "upstream": "\#(upstream)", "credential": "github-ro", "methods": ["GET"]}"#
            let verdict = Self.verdict(Self.routes(route), current: Self.currentRoutes, policy)
            #expect(verdict.rule == nil, "approved: \(route)")
            #expect(verdict.passed.first?.reason.contains("cleartext") == true, "\(upstream): \(verdict.passed)")
        }
        // Without a credential there is nothing to leak: plain http is an ordinary route.
        let bare = Self.verdict(
            Self.routes(#"{"path": "/gh/", "upstream": "http://api.github.com", "methods": ["GET"]}"#), current: Self.currentRoutes,
            policy)
        #expect(bare.rule?.name == "github-read", "\(bare.reason) \(bare.passed)")
        // The operator's explicit opt-in.
        let optIn = try Self.policy(Self.routesRule + "\nallow_http = true")
        let route = #"{"path": "/gh/", "upstream": "http://api.github.com", "credential": "github-ro", "methods": ["GET"]}"#
        #expect(Self.verdict(Self.routes(route), current: Self.currentRoutes, optIn).rule?.name == "github-read")
        #expect(optIn.rules.first?.allowHTTP == true)
        // policy check: a boolean, on a rule about routes that names upstreams.
        #expect(throws: PolicyProblem.self) { try Self.policy(Self.routesRule + "\nallow_http = \"yes\"") }
        #expect(throws: PolicyProblem.self) {
            try Self.policy("[[policy.rule]]\nname = \"d\"\ntool = \"pipelock-block\"\nhosts = [\"a.example\"]\naction = \"approve\"\nallow_http = true")
        }
        #expect(throws: PolicyProblem.self) {
            try Self.policy(
                "[[policy.rule]]\nname = \"r\"\ntool = \"cred-proxy-block\"\nroutes = ['{\"upstream\": \"http://a.example\"}']\naction = \"approve\"\nallow_http = true")
        }
    }

    @Test("Dockerfile: a capability rule approves additions only, not instructions that change what the kept ones mean")
    func dockerfileAlterations() throws {
        let current = "ARG BASE=debian:bookworm-slim\nFROM ${BASE}\nRUN apt-get update\nUSER agent\nCMD [\"agent\"]\n"
        let policy = try Self.policy(
            "[[policy.rule]]\nname = \"tools\"\ntool = \"capability-block\"\ncapability = true\nmax_risk = \"warning\"\naction = \"approve\"")
        func verdict(_ proposed: String, against current: String? = current) -> PolicyEvaluator.Verdict {
            let proposal = Proposal(
                bottle: try! BottleSlug("web-1"), tool: .capabilityBlock, proposedFile: proposed, justification: "x",
                currentFileSHA256: current.map { SHA256Hex.of($0) })
            return Self.verdict(proposal, current: current, policy)
        }
        // Plain additions are still approved: a RUN between kept ones, an ENV or LABEL at the end.
        for proposed in [
            current.replacingOccurrences(of: "USER agent\n", with: "RUN apt-get install -y jq\nUSER agent\n"),
            current + "ENV JQ_COLORS=1\nLABEL tools=jq\nEXPOSE 8080\n",
        ] {
            let approved = verdict(proposed)
            #expect(approved.rule?.name == "tools", "\(proposed): \(approved.reason) \(approved.passed)")
        }
        for (what, proposed) in [
            ("a new final stage", current + "FROM attacker/image:latest\n"),
            ("a new final stage copying the old one", current + "FROM attacker/image:latest AS final\nCOPY --from=0 / /\n"),
            ("a stage in the middle", current.replacingOccurrences(of: "USER agent\n", with: "FROM attacker/image\nUSER agent\n")),
            ("a stage ahead named like the base", "FROM attacker/image AS debian\n" + current),
            ("USER root at the end", current + "USER root\n"),
            ("USER root in the middle", current.replacingOccurrences(of: "RUN apt-get update\n", with: "USER root\nRUN apt-get update\n")),
            ("a global ARG before FROM", "ARG BASE=attacker/image\n" + current),
            ("ENV PATH before a kept RUN", current.replacingOccurrences(of: "RUN apt-get", with: "ENV PATH=/tmp/evil:$PATH\nRUN apt-get")),
            ("WORKDIR before a kept RUN", current.replacingOccurrences(of: "RUN apt-get", with: "WORKDIR /tmp\nRUN apt-get")),
            ("VOLUME before kept instructions", current.replacingOccurrences(of: "RUN apt-get", with: "VOLUME /var/lib/apt\nRUN apt-get")),
            ("SHELL", current.replacingOccurrences(of: "RUN apt-get", with: "SHELL [\"/tmp/sh\", \"-c\"]\nRUN apt-get")),
            ("ONBUILD", current + "ONBUILD RUN curl https://evil.example\n"),
            ("ENTRYPOINT", current + "ENTRYPOINT [\"/tmp/evil\"]\n"),
            ("a second CMD", current + "CMD [\"/tmp/evil\"]\n"),
            ("HEALTHCHECK", current + "HEALTHCHECK CMD /tmp/evil\n"),
            ("STOPSIGNAL", current + "STOPSIGNAL SIGKILL\n"),
            ("lower case user", current + "user root\n"),
        ] {
            let asked = verdict(proposed)
            #expect(asked.rule == nil, "\(what) was approved")
            #expect(asked.passed.first?.reason.contains("changes what the kept instructions mean") == true, "\(what): \(asked.passed)")
        }
        // A Dockerfile where there was none: its FROM is an image nobody chose.
        #expect(verdict("FROM debian:bookworm-slim\nRUN true\n", against: nil).rule == nil)
    }

    @Test("host patterns are refused unless they are plain hostnames or *.domain")
    func patterns() throws {
        for bad in ["*", "*.com", "docs.python.org.", "docs.pythön.org", "docs.*.org", "a*.example.com", "https://x.example", "x.example:443", "", " a.example"] {
            #expect(throws: PolicyProblem.self, "\(bad)") { try HostPattern(bad) }
        }
        let wildcard = try HostPattern("*.Example.COM")
        #expect(wildcard.covers("a.example.com"))
        #expect(wildcard.covers("*.a.example.com"))
        #expect(wildcard.covers("*.example.com"))
        #expect(!wildcard.covers("example.com"))
        #expect(!wildcard.covers("badexample.com"))
        #expect(!wildcard.covers("example.com.evil"))
    }

    @Test("bottle globs: * and ? over the whole slug")
    func globs() {
        #expect(BottleGlob.matches("web-*", "web-1"))
        #expect(BottleGlob.matches("web-*", "web-"))
        #expect(!BottleGlob.matches("web-*", "xweb-1"))
        #expect(BottleGlob.matches("*-prod", "api-prod"))
        #expect(!BottleGlob.matches("*-prod", "api-prod2"))
        #expect(BottleGlob.matches("b?", "b1"))
        #expect(!BottleGlob.matches("b?", "b12"))
        #expect(BottleGlob.matches("*a*b*", "xxaxxbxx"))
    }
}
