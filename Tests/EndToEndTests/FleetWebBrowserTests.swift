import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Testing

/// `bottle-supervise web --database` in two headless Chromiums, one per
/// operator, against a real PostgreSQL: `operators add` prints each one's
/// link, both sign in, a proposal mirrored from another host appears on both
/// pages live, the host filter works, two operators race on one proposal (one
/// decision, the other told who won), and `operators remove` signs one out.
@Suite(
    "Fleet web page in a browser, two operators", .serialized,
    .enabled(if: WebBrowser.isAvailable && PostgresServer.isInstalled, "chromium, selenium or PostgreSQL is missing"))
struct FleetWebBrowserTests {
    let scratch = Scratch()

    @Test("two operators sign in, see a proposal arrive live, filter by host, race on a decision; removal signs one out")
    func twoOperators() async throws {
        let server = try await PostgresServer.start()
        defer { server.destroy() }
        let url = try server.createDatabase("fleet")
        var settings = try FleetDatabaseSettings.parse(url, source: "the test")
        settings.password = PostgresServer.superuserPassword
        let environment = [
            "PGPASSWORD": PostgresServer.superuserPassword, "HOME": scratch.path,
            "SUPERVISE_SETTINGS": scratch.write("", at: "host.toml"), "SUPERVISE_DATABASE_URL": "",
        ]

        // The page first (it migrates the schema), on a free port.
        let webLog = scratch.path + "/web.out"
        let webOut = open(webLog, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let web = try ApplyFixtures.spawn(
            [
                BuiltBinary.path, "web", "--database", url, "--port", "0", "--token-file", scratch.path + "/web-token",
            ], environment: environment, stdout: webOut, stderr: webOut)
        close(webOut)
        defer { WebBrowser.stop(web) }
        let login = try await WebBrowser.waitForLine(in: webLog, after: "log in at ")
        let base = String(login.prefix { $0 != "?" }.dropLast("/login".count))

        func operators(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try ApplyFixtures.run(
                [BuiltBinary.path, "operators"] + arguments + ["--database", url], environment: environment,
                timeout: .seconds(30))
        }
        func link(_ name: String) throws -> String {
            let added = try operators(["add", name, "--web-url", base])
            #expect(added.status == 0, "\(added.err)")
            #expect(added.out.contains("added operator \(name)"))
            return try #require(added.out.split(separator: " ").last { $0.contains("/login/operator?token=") })
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let (aliceLink, bobLink) = (try link("alice"), try link("bob"))

        let proposal = try await FleetFixture.mirror(settings: settings, host: "alpha", bottle: "web")
        let ready = scratch.path + "/ready", go = scratch.path + "/go"
        let browserLog = scratch.path + "/browser.out"
        let browserOut = open(browserLog, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let browserErr = open(scratch.path + "/browser.err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let browser = try ApplyFixtures.spawn(
            [
                WebBrowser.python, PythonClient.repoRoot + "/Tests/EndToEndTests/python/fleet_web_browser.py",
                aliceLink, bobLink, "/fleet/alpha/web/\(proposal.id)", ready, go,
            ], stdout: browserOut, stderr: browserErr)
        close(browserOut)
        close(browserErr)
        defer { WebBrowser.stop(browser) }
        func readyFile() -> String { (try? String(contentsOfFile: ready, encoding: .utf8)) ?? "" }

        #expect(await ApplyFixtures.eventually(timeout: .seconds(90)) { readyFile() == "ready\n" }, "the browsers never opened the list")
        _ = try await FleetFixture.mirror(settings: settings, host: "beta", bottle: "db")
        scratch.write("go\n", at: "go")
        #expect(await ApplyFixtures.eventually(timeout: .seconds(60)) { readyFile() == "decided\n" }, "the race never ended")
        let listed = try operators(["list"])
        #expect(listed.out.contains("alice") && listed.out.contains("bob"))
        let removed = try operators(["remove", "bob"])
        #expect(removed.status == 0, "\(removed.err)")
        #expect(try operators(["remove", "bob"]).status == 3)
        scratch.write("go\n", at: "go.removed")

        var status: Int32 = 0
        #expect(await ApplyFixtures.eventually(timeout: .seconds(60)) { waitpid(browser, &status, WNOHANG) == browser })
        let output = (try? String(contentsOfFile: browserLog, encoding: .utf8)) ?? ""
        let line = try #require(
            output.split(separator: "\n").last,
            "no output; stderr: \((try? String(contentsOfFile: scratch.path + "/browser.err", encoding: .utf8)) ?? "")")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])

        #expect(out["alice_signed_in"] as? String == "Signed in as alice")
        #expect(out["bob_signed_in"] as? String == "Signed in as bob")
        #expect(out["cookie_http_only"] as? Bool == true)
        #expect(out["cookie_same_site"] as? String == "Strict")
        #expect((out["reused_link_text"] as? String)?.contains("already used") == true)
        #expect(out["hosts_before"] as? [String] == ["alpha"])
        let appeared = try #require(out["appeared_after_s"] as? Double, "beta's proposal never appeared live")
        #expect(appeared < 1.0)
        print("fleet page: a mirrored proposal appeared on two open pages after \(appeared) s")
        #expect(out["hosts_after"] as? [String] == ["alpha", "beta"])
        #expect(out["filtered_hosts"] as? [String] == ["beta"])
        #expect(out["diff_has_addition"] as? Bool == true)
        #expect((out["alice_message"] as? String)?.hasPrefix("Decided: approved") == true, "\(out)")
        // Bob's open page followed the decision live, then the form he had loaded was refused.
        #expect((out["bob_live_state"] as? String)?.hasPrefix("Decided: approved by alice") == true, "\(out)")
        #expect(out["bob_form_gone"] as? Bool == true, "\(out)")
        #expect(
            (out["bob_message"] as? String)?.contains("Already approved by alice (on host alpha)") == true, "\(out)")
        #expect((out["bob_after_removal"] as? String)?.contains("You are signed out") == true, "\(out)")
        let decision = try await FleetFixture.decision(settings: settings, proposal)
        #expect(decision?.decidedBy == "alice")
        #expect(decision?.status == .approved)
    }
}

/// Puts proposals into the fleet database as a host's relay would, and reads decisions back.
enum FleetFixture {
    static func mirror(settings: FleetDatabaseSettings, host: String, bottle: String) async throws -> Proposal {
        let hostName = try FleetHostName(host)
        let slug = try BottleSlug(bottle)
        let current = "api.github.com\n"
        let proposal = Proposal(
            bottle: slug, tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip needs PyPI", currentFileSHA256: SHA256Hex.of(current))
        let row = FleetProposalRow(
            host: hostName, bottle: slug, id: proposal.id, tool: proposal.tool, proposal: try QueueFormat.encode(proposal),
            proposedFile: proposal.proposedFile, justification: proposal.justification, createdAt: proposal.createdAt,
            currentFile: current)
        try await FleetStore.withStore(settings: settings) { store in
            try await store.registerHost(hostName, version: "test")
            try await store.mirror(FleetSnapshot(host: hostName, bottle: slug, proposals: [row]))
        }
        return proposal
    }

    static func decision(settings: FleetDatabaseSettings, _ proposal: Proposal) async throws -> FleetDecisionRow? {
        try await FleetStore.withStore(settings: settings) { store in
            try await store.proposals(id: proposal.id).first?.decision
        }
    }
}
