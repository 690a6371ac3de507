import Foundation
import Queue
import SystemPackage
import Testing

/// A decision reaches the agent whatever its client's total timeout: real
/// clients from PyPI whose every call gives up before the operator decides.
///
/// The sidecar's hold limit is shorter than the client's call timeout, so a
/// call answers `pending` with the proposal id and the model (the `persist`
/// scenario of the client scripts) calls `proposal-status` until the decision.
@Suite("Sidecar end to end: decisions outlive the calls that asked", .serialized)
struct SidecarDurableTests {
    static let decisions: [(tool: String, status: DecisionStatus, notes: String, final: String?)] = [
        ("cred-proxy-block", .approved, "go ahead", nil),
        ("pipelock-block", .rejected, "use the internal mirror instead", nil),
        ("capability-block", .modified, "pinned jq", "FROM debian:bookworm-slim\nRUN apt-get install -y jq=1.6-2.1\n"),
    ]

    /// Decides `id` once the agent's first call has come back `pending`.
    static func decideAfterPending(
        _ sidecar: SidecarProcess, _ id: String, _ status: DecisionStatus, notes: String, final: String?
    ) throws {
        #expect(try sidecar.waitForStoppedWaiting(id))
        try SidecarProtocolTests.decide(sidecar, id, status, notes: notes, finalFile: final)
    }

    static func check(
        _ answer: [String: Any], id: String, tool: String, status: DecisionStatus, notes: String, final: String?
    ) throws {
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == status.rawValue, "\(answer)")
        #expect(structured["proposal_id"] as? String == id)
        #expect(structured["notes"] as? String == notes)
        #expect(structured["final_file"] as? String == final)
        #expect(answer["isError"] as? Bool == (status == .rejected))
        let steps = try #require(answer["steps"] as? [String], "\(answer)")
        #expect(steps.first == "\(tool): pending", "\(steps)")
        #expect(steps.last == "proposal-status: \(status.rawValue)", "\(steps)")
    }

    @Test(
        "mcp 2.3.0 with call timeouts shorter than the operator: approval, rejection with notes, modified file",
        arguments: ["legacy", "auto"])
    func statusTool(mode: String) throws {
        let sidecar = try SidecarProcess(arguments: ["--hold-limit", "1"])
        for (tool, status, notes, final) in Self.decisions {
            let run = try PythonClient.Run(
                [
                    "persist", sidecar.url, mode, tool, SidecarProtocolTests.fileFor(tool, in: sidecar),
                    "--call-timeout", "8",
                ])
            let id = try #require(try sidecar.waitForPending(timeout: 60).first)
            try Self.decideAfterPending(sidecar, id, status, notes: notes, final: final)
            try Self.check(try run.finish(timeout: 120), id: id, tool: tool, status: status, notes: notes, final: final)
            #expect(sidecar.pendingIDs().isEmpty)
            #expect(FileManager.default.fileExists(atPath: "\(sidecar.queueDirectory)/archive/\(id).decision.json"))
        }
    }

    @Test("an older mcp 1.x client, which abandons a timed-out call, gets the decision through proposal-status")
    func olderClient() throws {
        guard let python = PythonClient.pythonMCP1 else { throw E2EFailure(PythonClient.installHintMCP1) }
        let sidecar = try SidecarProcess(arguments: ["--hold-limit", "1"])
        let (tool, status, notes, final) = Self.decisions[1]
        let run = try PythonClient.Run(
            python: python, script: "sidecar_client_mcp1.py",
            [
                "persist", sidecar.url, tool, SidecarProtocolTests.fileFor(tool, in: sidecar), "--call-timeout", "8",
            ])
        let id = try #require(try sidecar.waitForPending(timeout: 60).first)
        try Self.decideAfterPending(sidecar, id, status, notes: notes, final: final)
        let answer = try run.finish(timeout: 120)
        try Self.check(answer, id: id, tool: tool, status: status, notes: notes, final: final)
        #expect((answer["tools"] as? [String])?.contains("proposal-status") == true)
    }

    @Test(
        "mcp 1.x gives up without closing its stream; the decision written into it is delivered, and the identical retry gets it",
        arguments: ["1.30.0", "1.9.4"], [DecisionStatus.approved, .rejected])
    func abandonedStream(version: String, status: DecisionStatus) async throws {
        let python = try #require(
            version == "1.30.0" ? PythonClient.pythonMCP1 : PythonClient.pythonMCP19,
            "mcp \(version) is missing: scripts/test makes .venv-mcp1 (1.30.0) and .venv-mcp19 (1.9.4)")
        let installed = try ApplyFixtures.run(
            [python, "-c", "import importlib.metadata as m; print(m.version('mcp'))"], timeout: .seconds(30))
        #expect(installed.out.trimmingCharacters(in: .whitespacesAndNewlines) == version)
        // Held until decided: nothing but the client's own timeout ends the first call.
        let sidecar = try SidecarProcess(arguments: ["--hold-limit", "0"])
        let tool = "pipelock-block"
        let scratch = Scratch()
        let gaveUp = scratch.path + "/gave-up"
        let go = scratch.path + "/go"
        let run = try PythonClient.Run(
            python: python, script: "sidecar_client_mcp1.py",
            [
                "retry", sidecar.url, tool, SidecarProtocolTests.fileFor(tool, in: sidecar), "--call-timeout", "2",
                "--gave-up-file", gaveUp, "--go-file", go,
            ])
        let id = try #require(try sidecar.waitForPending(timeout: 60).first)
        #expect(await ApplyFixtures.eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: gaveUp) })
        // The client gave up but its stream is open: the decision is written into it and archived as delivered.
        try SidecarProtocolTests.decide(sidecar, id, status, notes: status == .rejected ? "use the mirror" : "ok")
        let archived = "\(sidecar.queueDirectory)/archive/\(id).decision.json"
        #expect(await ApplyFixtures.eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: archived) })
        FileManager.default.createFile(atPath: go, contents: nil)

        let answer = try run.finish(timeout: 120)
        let steps = try #require(answer["steps"] as? [String], "\(answer)")
        #expect(steps.first?.hasPrefix("\(tool): gave up") == true, "\(steps)")
        #expect(steps.last == "\(tool): \(status.rawValue)", "\(steps)")
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["proposal_id"] as? String == id)
        if status == .rejected { #expect(structured["notes"] as? String == "use the mirror") }
        // Nothing was queued again: the operator is not asked twice.
        #expect(sidecar.pendingIDs().isEmpty)
    }

    @Test(
        "a client that gives up (and cancels) before the decision gets the decision made after, on its retry",
        arguments: ["legacy", "auto"])
    func cancelledThenRetried(mode: String) throws {
        // Held until decided: the client's own timeout ends the call, not the sidecar.
        let sidecar = try SidecarProcess(arguments: ["--hold-limit", "0"])
        let tool = "pipelock-block"
        let run = try PythonClient.Run(
            [
                "persist", sidecar.url, mode, tool, SidecarProtocolTests.fileFor(tool, in: sidecar),
                "--call-timeout", "3", "--retry-after", "6",
            ])
        let id = try #require(try sidecar.waitForPending(timeout: 60).first)
        #expect(try sidecar.waitForStoppedWaiting(id))
        // Nothing was withdrawn: the operator's approval is accepted after the client gave up.
        try SidecarProtocolTests.decide(sidecar, id, .approved, notes: "ok")
        let answer = try run.finish(timeout: 120)
        let steps = try #require(answer["steps"] as? [String], "\(answer)")
        #expect(steps.first?.hasPrefix("\(tool): gave up") == true, "\(steps)")
        #expect(steps.last == "\(tool): approved", "\(steps)")
        #expect((answer["structured"] as? [String: Any])?["proposal_id"] as? String == id)
    }
}
