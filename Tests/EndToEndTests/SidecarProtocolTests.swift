import Foundation
import Queue
import SystemPackage
import Testing

/// The real `bottle-supervise serve` driven by the official Python MCP SDK, in
/// both connection modes: `legacy` (initialize handshake, 2025-11-25) and
/// `auto` (server/discover, 2026-07-28).
@Suite("Sidecar end to end: the official Python client", .serialized)
struct SidecarProtocolTests {
    static let files: [String: String] = [
        "cred-proxy-block": #"{"routes": [{"path": "/github/", "upstream": "https://api.github.com"}]}"#,
        "pipelock-block": "api.github.com\nregistry.npmjs.org\n",
        "capability-block": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y jq\n",
    ]

    static func decide(
        _ sidecar: SidecarProcess, _ id: String, _ status: DecisionStatus, notes: String = "", finalFile: String? = nil
    ) throws {
        let queue = BottleQueue(directory: FilePath(sidecar.queueDirectory), bottle: try BottleSlug("web"))
        do {
            try queue.decide(
                Decision(id: try ProposalID(id), status: status, notes: notes, finalFile: finalFile, decidedBy: "ops"))
        } catch {
            let earlier = (try? queue.decision(try ProposalID(id))).flatMap { $0 }
            throw E2EFailure(
                "\(error); earlier decision: \(String(describing: earlier))\nsidecar log:\n\(sidecar.stderrText)")
        }
    }

    static func fileFor(_ tool: String, in sidecar: SidecarProcess) -> String {
        sidecar.scratch.write(files[tool]!, at: "proposed-\(tool)")
    }

    @Test("list tools and call each one; the operator's decision comes back", arguments: ["legacy", "auto"])
    func listAndCall(mode: String) throws {
        let sidecar = try SidecarProcess()
        let listed = try PythonClient.run(["list", sidecar.url, mode])
        #expect(listed["protocolVersion"] as? String == (mode == "legacy" ? "2025-11-25" : "2026-07-28"))
        let tools = try #require(listed["tools"] as? [[String: Any]])
        #expect(
            tools.map { $0["name"] as? String } == [
                "cred-proxy-block", "pipelock-block", "capability-block", "proposal-status",
            ])
        #expect(
            tools.map { ($0["required"] as? [String])?.first } == ["routes", "allowlist", "dockerfile", "proposal_id"])

        let decisions: [(String, DecisionStatus)] = [
            ("cred-proxy-block", .approved), ("pipelock-block", .modified), ("capability-block", .rejected),
        ]
        for (tool, status) in decisions {
            let run = try PythonClient.Run(["call", sidecar.url, mode, tool, Self.fileFor(tool, in: sidecar)])
            let id = try #require(try sidecar.waitForPending().first)
            let final = status == .modified ? "api.github.com\n" : nil
            try Self.decide(sidecar, id, status, notes: "decided by the test", finalFile: final)
            let answer = try run.finish()
            let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
            #expect(structured["status"] as? String == status.rawValue)
            #expect(structured["proposal_id"] as? String == id)
            #expect(structured["notes"] as? String == "decided by the test")
            #expect(structured["final_file"] as? String == final)
            #expect(answer["isError"] as? Bool == (status == .rejected))
            #expect((answer["text"] as? String)?.contains("status: \(status.rawValue)") == true)
            #expect(sidecar.pendingIDs().isEmpty)
            #expect(FileManager.default.fileExists(atPath: "\(sidecar.queueDirectory)/archive/\(id).decision.json"))
        }
    }

    @Test("a held call outlives the client's read timeout thanks to keep-alives", arguments: ["legacy", "auto"])
    func keepalive(mode: String) throws {
        let sidecar = try SidecarProcess(keepalive: 0.5)
        var arguments = ["call", sidecar.url, mode, "pipelock-block", Self.fileFor("pipelock-block", in: sidecar)]
        arguments += ["--read-timeout", "2.5"]
        if mode == "auto" { arguments.append("--progress") }
        let run = try PythonClient.Run(arguments)
        let id = try #require(try sidecar.waitForPending().first)
        Thread.sleep(forTimeInterval: 6)
        #expect(sidecar.isWaiting(id))
        try Self.decide(sidecar, id, .approved)
        let answer = try run.finish()
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)")
        if mode == "auto" { #expect(((answer["progress"] as? [Any])?.count ?? 0) >= 3, "\(answer)") }
    }

    @Test("cancelling the call withdraws nothing: the proposal stays decidable, marked as no longer awaited")
    func cancellation() throws {
        let sidecar = try SidecarProcess()
        let run = try PythonClient.Run(
            [
                "cancel", sidecar.url, "legacy", "pipelock-block", Self.fileFor("pipelock-block", in: sidecar),
                "--after", "1.5",
            ])
        let id = try #require(try sidecar.waitForPending().first)
        _ = try run.finish()
        #expect(try sidecar.waitForStoppedWaiting(id))
        #expect(sidecar.pendingIDs() == [id])
        try Self.decide(sidecar, id, .approved)
    }

    @Test(
        "a dropped connection keeps the proposal; the same call retried re-attaches to it",
        arguments: ["legacy", "auto"])
    func retry(mode: String) throws {
        let sidecar = try SidecarProcess(keepalive: 0.2)
        let file = Self.fileFor("capability-block", in: sidecar)
        let first = try PythonClient.Run(["call", sidecar.url, mode, "capability-block", file])
        let id = try #require(try sidecar.waitForPending().first)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(sidecar.isWaiting(id))
        first.kill()
        let deadline = Date().addingTimeInterval(5)
        while sidecar.isWaiting(id), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!sidecar.isWaiting(id), "the waiting marker stays after the client went away")
        #expect(sidecar.pendingIDs() == [id])

        let second = try PythonClient.Run(["call", sidecar.url, mode, "capability-block", file])
        let reattached = Date().addingTimeInterval(10)
        while !sidecar.isWaiting(id), Date() < reattached { Thread.sleep(forTimeInterval: 0.05) }
        #expect(sidecar.pendingIDs() == [id])
        try Self.decide(sidecar, id, .approved)
        let answer = try second.finish()
        #expect((answer["structured"] as? [String: Any])?["proposal_id"] as? String == id, "\(answer)")
    }

    @Test("SIGTERM ends a held call with 'sidecar restarting', keeps the proposal, and exits promptly")
    func sigterm() throws {
        let sidecar = try SidecarProcess()
        let run = try PythonClient.Run(
            ["call", sidecar.url, "legacy", "pipelock-block", Self.fileFor("pipelock-block", in: sidecar)])
        let id = try #require(try sidecar.waitForPending().first)
        Thread.sleep(forTimeInterval: 0.3)
        let started = Date()
        sidecar.process.terminate()
        sidecar.process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 3)
        let answer = try run.finish()
        let error = try #require(answer["error"] as? [String: Any], "\(answer)")
        #expect((error["message"] as? String)?.contains("sidecar restarting") == true)
        #expect(sidecar.pendingIDs() == [id])
    }
}

extension SidecarProtocolTests {
    static func decideIn(_ directory: String, _ id: String, _ status: DecisionStatus) throws {
        let queue = BottleQueue(directory: FilePath(directory), bottle: try BottleSlug("web"))
        try queue.decide(Decision(id: try ProposalID(id), status: status, decidedBy: "ops"))
    }
}
