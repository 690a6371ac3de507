import Foundation
import Testing

/// `bottle-supervise apply ID`: after "approved, not applied", the operator fixes the cause and
/// runs the apply again; it is audited, and the agent reads the new outcome.
@Suite("apply ID: an approved, not applied decision applied again", .serialized)
struct ReapplyTests {
    @Test("a reload that failed: approve exits 4 pointing at apply; apply fails while the cause stays, then applies, audited")
    func reapply() throws {
        let scratch = Scratch()
        let ready = scratch.path + "/pipelock-is-up"
        let bottle = try ServedBottle(reload: ["sh", "-c", "test -e '\(ready)' || { echo pipelock is down >&2; exit 3; }"])
        let proposed = "api.github.com\npypi.org\n"
        let (id, asked) = try bottle.ask(proposed)
        let allowlist = bottle.configDirectory + "/allowlist"

        let approved = try bottle.operatorCommand(["approve", id])
        #expect(approved.status == 1, "the reload failed: \(approved.out)\(approved.err)")
        #expect(approved.out.contains("approved, not applied"), "\(approved.out)")
        _ = try asked.finish(timeout: 60)
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")

        let again = try bottle.operatorCommand(["approve", id])
        #expect(again.status == 4, "\(again.err)")
        #expect(again.err.contains("run `bottle-supervise apply \(id)`"), "\(again.err)")

        // The cause is still there: the apply fails again, the previous file is put back.
        let stillDown = try bottle.operatorCommand(["apply", id])
        #expect(stillDown.status == 1, "\(stillDown.out)\(stillDown.err)")
        #expect(stillDown.err.contains("pipelock is down"), "\(stillDown.err)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\n")

        // Someone changed the bottle's file meanwhile: refused unless --force.
        try "api.github.com\nmirror.example\n".write(toFile: allowlist, atomically: true, encoding: .utf8)
        let conflict = try bottle.operatorCommand(["apply", id])
        #expect(conflict.status == 1, "\(conflict.out)\(conflict.err)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == "api.github.com\nmirror.example\n")
        try "api.github.com\n".write(toFile: allowlist, atomically: true, encoding: .utf8)

        _ = FileManager.default.createFile(atPath: ready, contents: nil)
        let applied = try bottle.operatorCommand(["apply", id])
        #expect(applied.status == 0, "\(applied.out)\(applied.err)")
        #expect(applied.out.contains("approved \(id)"), "\(applied.out)")
        #expect(applied.out.contains("applied: wrote allowlist"), "\(applied.out)")
        #expect(try String(contentsOfFile: allowlist, encoding: .utf8) == proposed)

        // Audited: the re-runs are apply records, the last one applied.
        let log = try bottle.operatorCommand(["log", "--json"])
        #expect(log.status == 0, "\(log.err)")
        let applies = log.out.split(separator: "\n").filter { $0.contains("\"event\":\"apply\"") && $0.contains(id) }
        #expect(applies.count == 3, "the failed approve, the failed apply, the apply: \(log.out)")
        #expect(applies.last?.contains("\"status\":\"applied\"") == true, "\(applies)")
        #expect(try bottle.operatorCommand(["log", "--verify"]).status == 0)

        // The agent reads the new outcome the next time it asks.
        let status = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "--status", id, "--url", bottle.url], timeout: .seconds(30))
        #expect(status.status == 0, "\(status.out)\(status.err)")
        #expect(status.out.contains("apply: applied"), "\(status.out)")

        let twice = try bottle.operatorCommand(["apply", id])
        #expect(twice.status == 4, "\(twice.err)")
        #expect(twice.err.contains("applied already"), "\(twice.err)")
    }

    @Test("apply on a rejected proposal exits 4, on an unknown id 3")
    func notAnApproval() throws {
        let bottle = try ServedBottle()
        let (id, asked) = try bottle.ask("api.github.com\nevil.example\n")
        #expect(try bottle.operatorCommand(["reject", id, "--notes", "no"]).status == 0)
        _ = try asked.finish(timeout: 60)
        let rejected = try bottle.operatorCommand(["apply", id])
        #expect(rejected.status == 4, "\(rejected.err)")
        #expect(rejected.err.contains("was rejected, not approved"), "\(rejected.err)")
        #expect(try bottle.operatorCommand(["apply", "20200101-000000-000000000000"]).status == 3)
    }
}
