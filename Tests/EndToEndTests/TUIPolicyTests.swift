import Foundation
import Queue
import SystemPackage
import Testing

/// The console as a host process of the standing rules: it applies them to a
/// proposal as it arrives, says so, and sends a preset answer picked with `p`.
@Suite(
    "Console TUI: standing rules and preset answers", .serialized,
    .enabled(if: Tmux.isInstalled, "tmux is not installed (scripts/test installs it)"))
struct TUIPolicyTests {
    let base = TUIConsoleTests()
    var settings: String { base.scratch.path + "/host.toml" }

    init() {
        base.scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
        base.scratch.write(
            """
            [answers]
            use-mirror = "Use the internal mirror instead."

            [[policy.rule]]
            name = "docs"
            hosts = ["docs.python.org"]
            action = "approve"
            """, at: "host.toml")
    }

    @Test("a rule decides a proposal arriving while the console runs, and the console says which rule")
    func ruleInConsole() async throws {
        let tmux = try await base.startConsole(arguments: "--settings \(settings)")
        defer { try? tmux.type("q") }
        let proposal = try await base.propose("api.github.com\ndocs.python.org\n", justification: "docs")
        let decision = try await base.waitForDecision(proposal.id)
        #expect(decision.decidedBy == "policy:docs")
        #expect(decision.apply?.state == .applied || decision.apply?.state == .pending)
        try await tmux.waitFor("policy: rule docs approved")
    }

    @Test("p picks the preset answer; r with no notes rejects with its text and name")
    func presetAnswerInConsole() async throws {
        let proposal = try await base.propose()
        let tmux = try await base.startConsole(arguments: "--settings \(settings)")
        defer { try? tmux.type("q") }
        try await tmux.waitFor("pip needs PyPI")
        try tmux.type("p")
        try await tmux.waitFor("preset answer: use-mirror")
        try tmux.type("r")
        try tmux.press("Enter")
        let decision = try await base.waitForDecision(proposal.id)
        #expect(decision.status == .rejected)
        #expect(decision.answer == "use-mirror")
        #expect(decision.notes == "Use the internal mirror instead.")
    }
}
