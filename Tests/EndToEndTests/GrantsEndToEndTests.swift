import FileAccess
import Foundation
import Queue
import Testing

/// Time-boxed grants end to end: the agent asks through the Python MCP
/// client and the sidecar, the operator approves with `--for` on the host,
/// and the grant's end restarts a stand-in pipelock container with the host
/// taken out again — by `watch`, or by the next host command when `watch`
/// was not running. Needs podman, root and busybox-static (as ApplyPodmanTests).
@Suite(
    .enabled(
        if: PodmanHost.isUsable,
        "needs podman on PATH, root, and /bin/busybox from busybox-static (apt-get install -y podman runc busybox-static)"
    ),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct GrantsEndToEndTests {
    static let base = "api.one.example\n"

    @Test("a 3 s grant ends within 5 s of its deadline with watch running: host gone, pipelock restarted, audited")
    func aShortGrantEndsOnTimeWithWatch() async throws {
        let host = try GrantHost(allowlist: Self.base)
        defer { host.tearDown() }
        let watchLog = host.scratch.path + "/watch.log"
        let watch = try host.startWatch(log: watchLog)
        defer { host.stop(watch) }

        let wanted = Self.base + "docs.python.org\n"
        let asked = try host.ask(wanted)
        let id = try await host.pendingID(for: wanted)
        let approved = try host.cli(["approve", id, "--for", "3s"])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        #expect(approved.out.contains("grant \(id) ends at"), "\(approved.out)")

        // The agent's answer says when the access ends, for programs and for the model.
        let answer = try asked.finish(timeout: 90)
        let structured = try #require(answer["structured"] as? [String: Any], "\(answer)")
        #expect(structured["status"] as? String == "approved")
        let expiresText = try #require(structured["expires_at"] as? String, "\(structured)")
        let expiresAt = try #require(Timestamp.parse(expiresText))
        #expect((answer["text"] as? String)?.contains("time-boxed: it ends at \(expiresText)") == true, "\(answer)")
        #expect(try host.allowlist() == wanted)

        // Ended by watch: the host out of the file, pipelock restarted with it, an expire record.
        let ended = await ApplyFixtures.eventually(timeout: .seconds(20)) { (try? host.allowlist()) == Self.base }
        let endedAt = Date()
        #expect(ended, "watch never ended the grant:\n\((try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? "")")
        print("grant end: \(String(format: "%.2f", endedAt.timeIntervalSince(expiresAt))) s after its deadline")
        #expect(endedAt.timeIntervalSince(expiresAt) < 5, "ended \(endedAt.timeIntervalSince(expiresAt)) s late")
        let restarted = await ApplyFixtures.eventually(timeout: .seconds(30)) { host.starts().last == Self.base }
        let restartedAt = Date()
        #expect(restarted, "pipelock's loads: \(host.starts())")
        // Seen through `podman exec` (itself ~0.3 s): an upper bound of when the restarted pipelock loaded the file.
        print("pipelock restarted without the host: \(String(format: "%.2f", restartedAt.timeIntervalSince(expiresAt))) s after the deadline")
        #expect(restartedAt.timeIntervalSince(expiresAt) < 5, "pipelock restarted \(restartedAt.timeIntervalSince(expiresAt)) s late")
        #expect(host.starts() == [Self.base, wanted, Self.base])
        let expire = try host.audit().last
        #expect(expire?["event"] as? String == "expire")
        #expect(expire?["id"] as? String == id)
        #expect(expire?["status"] as? String == "applied")
        #expect((expire?["by"] as? String)?.hasSuffix("(watch)") == true, "\(expire ?? [:])")

        let listed = try host.cli(["grants", "--all", "--json"])
        let grants = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any])?["grants"] as? [[String: Any]])
        #expect(grants.first?["state"] as? String == "expired")
        #expect(try host.cli(["grants"]).out == "no live grants\n")
    }

    @Test("two overlapping grants for one host: it stays until the last ends; a later permanent approval survives")
    func overlappingGrantsAndAPermanentApproval() async throws {
        let host = try GrantHost(allowlist: Self.base)
        defer { host.tearDown() }
        let short = Self.base + "docs.python.org\n"
        let long = Self.base + "docs.python.org\npypi.org\n"
        let forGood = Self.base + "pypi.org\n"
        let askedShort = try host.ask(short)
        let askedLong = try host.ask(long)
        let askedForGood = try host.ask(forGood)
        let shortID = try await host.pendingID(for: short)
        let longID = try await host.pendingID(for: long)
        let forGoodID = try await host.pendingID(for: forGood)

        #expect(try host.cli(["approve", shortID, "--for", "1h"]).status == 0)
        // Made against the same file, so the bottle's file changed since: --force, as for any such proposal.
        let second = try host.cli(["approve", longID, "--for", "2h", "--force"])
        #expect(second.status == 0, "\(second.out)\(second.err)")
        #expect(try host.allowlist() == long)
        // pypi.org for good: it outlives the grant that also added it. Taken out by hand first, so the
        // permanent approval adds it over the file it replaces (what it releases from live grants is
        // what the operator sees diffed; never what a proposal's older base claims).
        try AtomicFile.write(Data(short.utf8), to: .init(host.configDirectory + "/allowlist"))
        let permanent = try host.cli(["approve", forGoodID, "--for", "always", "--force"])
        #expect(permanent.status == 0, "\(permanent.out)\(permanent.err)")
        #expect(try host.allowlist() == forGood, "the permanent approval wrote its own file")
        // Put the grants' hosts back by hand, as if the file had kept them: the ends must take out only theirs.
        try AtomicFile.write(Data(long.utf8), to: .init(host.configDirectory + "/allowlist"))
        // The agent learns each outcome with proposal-status (a held call is not needed: with the sidecar
        // of 02d66c5 a second client's call drops the first one's held connection, the proposal staying pending).
        for id in [shortID, longID] {
            let status = try host.status(of: id)
            #expect((status["structured"] as? [String: Any])?["expires_at"] != nil, "\(status)")
        }
        #expect((try host.status(of: forGoodID)["structured"] as? [String: Any])?["expires_at"] == nil)
        for asked in [askedShort, askedLong, askedForGood] { asked.kill() }

        let first = try host.cli(["revoke", shortID])
        #expect(first.status == 0, "\(first.out)\(first.err)")
        #expect(first.out.contains("kept, another live grant holds them: host docs.python.org"), "\(first.out)")
        #expect(try host.allowlist() == long, "docs.python.org stays: the longer grant holds it too")

        let last = try host.cli(["revoke", longID])
        #expect(last.status == 0, "\(last.out)\(last.err)")
        #expect(try host.allowlist() == Self.base + "pypi.org\n", "docs.python.org goes; pypi.org was approved for good")
        let restarted = await ApplyFixtures.eventually(timeout: .seconds(30)) { host.starts().last == Self.base + "pypi.org\n" }
        #expect(restarted, "\(host.starts())")
    }

    @Test("watch with $SUPERVISE_SETTINGS naming a missing file warns and still ends grants")
    func watchWithAMissingSettingsFileStillEndsGrants() async throws {
        let host = try GrantHost(allowlist: Self.base)
        defer { host.tearDown() }
        let watchLog = host.scratch.path + "/watch.log"
        let watch = try host.startWatch(log: watchLog, settings: host.scratch.path + "/no-such-host.toml")
        defer { host.stop(watch) }
        let log = (try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? ""
        #expect(log.contains("warning: no notifications and no standing rules"), "\(log)")
        #expect(log.contains("no-such-host.toml"), "\(log)")

        let wanted = Self.base + "docs.python.org\n"
        let asked = try host.ask(wanted)
        let id = try await host.pendingID(for: wanted)
        #expect(try host.cli(["approve", id, "--for", "2s"]).status == 0)
        _ = try asked.finish(timeout: 90)
        let ended = await ApplyFixtures.eventually(timeout: .seconds(20)) { (try? host.allowlist()) == Self.base }
        #expect(ended, "watch never ended the grant:\n\((try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? "")")
        // The expire record follows the reload (pipelock's restart), after the file is written.
        let audited = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            (try? host.audit().last?["event"] as? String) == "expire"
        }
        #expect(audited, "\((try? host.audit()) ?? [])")
    }

    @Test("watch stopped across a deadline: the next host command ends the grant before it does anything else")
    func theNextCommandEndsAnOverdueGrant() async throws {
        let host = try GrantHost(allowlist: Self.base)
        defer { host.tearDown() }
        let watchLog = host.scratch.path + "/watch.log"
        // watch ran, and was stopped (a reboot, a crash) before the grant was made.
        host.stop(try host.startWatch(log: watchLog))
        let wanted = Self.base + "docs.python.org\n"
        let asked = try host.ask(wanted)
        let id = try await host.pendingID(for: wanted)
        #expect(try host.cli(["approve", id, "--for", "3s"]).status == 0)
        _ = try asked.finish(timeout: 90)
        let deadline = try #require(try QueueRoot(.init(host.queueRoot)).queue(for: BottleSlug(host.slug)).decision(ProposalID(id))?.expiresAt)
        // Past the deadline with nothing running: the grant is still in force.
        while Date() < deadline.addingTimeInterval(1) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try host.allowlist() == wanted)

        let listed = try host.cli(["list"])
        #expect(listed.status == 0, "\(listed.out)\(listed.err)")
        #expect(listed.err.contains("grant \(id) of \(host.slug) ended: grant expired: took out host docs.python.org"), "\(listed.err)")
        #expect(try host.allowlist() == Self.base)
        #expect(host.starts().last == Self.base, "\(host.starts())")
        #expect(try host.audit().last?["event"] as? String == "expire")
    }

    @Test("revoke and extend, from the CLI; the agent's status answer follows; the maximum holds")
    func revokeAndExtend() async throws {
        let host = try GrantHost(allowlist: Self.base, grants: "[grants.allowlist]\ndefault = \"30m\"\nmaximum = \"4h\"\n")
        defer { host.tearDown() }
        let wanted = Self.base + "docs.python.org\n"
        let asked = try host.ask(wanted)
        let id = try await host.pendingID(for: wanted)

        // Longer than the bottle's maximum: refused, naming it; nothing decided.
        let tooLong = try host.cli(["approve", id, "--for", "8h"])
        #expect(tooLong.status == 1)
        #expect(tooLong.err.contains("longer than the maximum of 4h"), "\(tooLong.err)")
        #expect(try host.allowlist() == Self.base)
        let always = try host.cli(["approve", id, "--for", "always"])
        #expect(always.status == 1 && always.err.contains("last at most 4h"), "\(always.err)")

        // Without --for: the bottle's default.
        let approved = try host.cli(["approve", id])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        let answer = try asked.finish(timeout: 90)
        let first = try #require(Timestamp.parse((answer["structured"] as? [String: Any])?["expires_at"] as? String ?? ""))
        #expect(abs(first.timeIntervalSinceNow - 1_800) < 60, "\(first)")

        let listed = try host.cli(["grants"])
        #expect(listed.out.contains(id) && listed.out.contains("host docs.python.org"), "\(listed.out)")
        let shown = try host.cli(["show", id])
        #expect(shown.out.contains("grant     live until") && shown.out.contains("holds host docs.python.org"), "\(shown.out)")

        let extended = try host.cli(["extend", id, "--for", "2h"])
        #expect(extended.status == 0, "\(extended.out)\(extended.err)")
        let status = try host.status(of: id)
        let later = try #require(Timestamp.parse((status["structured"] as? [String: Any])?["expires_at"] as? String ?? ""), "\(status)")
        #expect(abs(later.timeIntervalSinceNow - 7_200) < 60, "the agent sees the new end: \(status)")
        let beyond = try host.cli(["extend", id, "--for", "5h"])
        #expect(beyond.status == 1 && beyond.err.contains("maximum of 4h"), "\(beyond.err)")

        let revoked = try host.cli(["revoke", id])
        #expect(revoked.status == 0, "\(revoked.out)\(revoked.err)")
        #expect(try host.allowlist() == Self.base)
        #expect(host.starts().last == Self.base, "\(host.starts())")
        let after = try host.status(of: id)
        #expect((after["text"] as? String)?.contains("ended at") == true, "\(after)")
        #expect(try host.cli(["revoke", id]).status == 3)
        #expect(try host.cli(["extend", "nope", "--for", "1h"]).status == 3)
        #expect(try host.cli(["extend", id, "--for", "1x"]).status == 2)
        #expect(try host.audit().compactMap { $0["event"] as? String }.suffix(2) == ["extend", "revoke"])
    }

    @Test("--for on a Dockerfile is refused with the reason, and nothing is decided")
    func aDockerfileCannotBeTimeBoxed() async throws {
        let host = try GrantHost(allowlist: Self.base)
        defer { host.tearDown() }
        let dockerfile = "FROM scratch\nCOPY busybox /busybox\n"
        let asked = try host.ask(dockerfile, tool: "capability-block")
        let id = try await host.pendingID(for: dockerfile)
        let refused = try host.cli(["approve", id, "--for", "1h"])
        #expect(refused.status == 1)
        #expect(refused.err.contains("a Dockerfile approval cannot be time-boxed"), "\(refused.err)")
        #expect(host.pendingIDs() == [id], "still pending")
        #expect(try host.cli(["reject", id, "--notes", "not today"]).status == 0)
        _ = try asked.finish(timeout: 90)
    }
}
