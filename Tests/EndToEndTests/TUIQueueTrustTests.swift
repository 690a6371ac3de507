import Foundation
import Queue
import SystemPackage
import Testing

/// The real console in a real terminal (tmux) against a queue a compromised
/// sidecar tampers with: what the operator confirms is what they were
/// shown, and nothing in the queue can hang the console or keep the
/// terminal raw.
@Suite(
    "Console TUI against a hostile queue", .serialized,
    .enabled(if: Tmux.isInstalled, "tmux is not installed (scripts/test installs it)"))
struct TUIQueueTrustTests {
    let scratch = Scratch()
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var queue: BottleQueue { QueueRoot(FilePath(queueRoot)).queue(for: try! BottleSlug("demo")) }

    init() {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write(
            "[reload.allowlist]\ncommand = [\"true\"]\n[reload.dockerfile]\ncommand = [\"true\"]\n",
            at: "bottles/demo/supervise.toml")
        try! FileManager.default.createDirectory(atPath: queueRoot, withIntermediateDirectories: true)
    }

    func startConsole() async throws -> Tmux {
        let tmux = try Tmux(columns: 160, environment: [:])
        try tmux.type(
            "\(BuiltBinary.path) console --no-bell --queue-root \(queueRoot) --config-root \(configRoot)", enter: true)
        try await tmux.waitFor("Bottle Supervise —")
        return tmux
    }

    @Test("a proposal replaced while the confirm prompt is open is not applied: the console keeps what it showed")
    func replacedUnderConfirm() async throws {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip needs PyPI", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await queue.submit(proposal)
        let tmux = try await startConsole()
        try await tmux.waitFor("pip needs PyPI")
        try tmux.press("Enter")
        try await tmux.waitFor("Justification")
        try tmux.type("a")
        try await tmux.waitFor("(y/n)")
        // The sidecar renames another tool's proposal over the one on screen.
        let swapped = Proposal(
            id: proposal.id, bottle: proposal.bottle, tool: .capabilityBlock,
            proposedFile: "FROM alpine:3.20\nRUN echo pwned\n", justification: "pip needs PyPI", currentFileSHA256: nil)
        let temp = queue.directory.appending(".swap.tmp").string
        try QueueFormat.encode(swapped).write(to: URL(fileURLWithPath: temp))
        #expect(rename(temp, queue.directory.appending("\(proposal.id).proposal.json").string) == 0)
        try await tmux.waitFor("replaced in the queue while you reviewed it", timeout: .seconds(10))
        try tmux.type("y")
        try await tmux.waitFor("changed in the queue after it was reviewed", timeout: .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: configRoot + "/demo/Dockerfile"))
        #expect(try String(contentsOfFile: configRoot + "/demo/allowlist", encoding: .utf8) == "api.github.com\n")
        #expect(try queue.decision(proposal.id) == nil)
        try tmux.type("q")
    }

    @Test("FIFOs named like a proposal and a decision neither hang the console nor keep the terminal raw")
    func fifos() async throws {
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip needs PyPI", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await queue.submit(proposal)
        #expect(mkfifo(queue.directory.appending("20260101-000000-00000000f1f0.proposal.json").string, 0o644) == 0)
        let tmux = try await startConsole()
        let screen = try await tmux.waitFor("a FIFO, not a regular file", timeout: .seconds(10))
        #expect(screen.contains("pip needs PyPI"))
        // A FIFO appearing while it runs, named like the shown proposal's decision.
        #expect(mkfifo(queue.directory.appending("\(proposal.id).decision.json").string, 0o644) == 0)
        try await Task.sleep(for: .milliseconds(500))
        try tmux.type("q")
        try await Task.sleep(for: .milliseconds(300))
        try tmux.type(
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | sort | tr '\\n' ' '; echo DONE-$((1+1))",
            enter: true)
        let after = try await tmux.waitFor("DONE-2", timeout: .seconds(10))
        #expect(after.contains("echo icanon DONE-2"))
    }
}
