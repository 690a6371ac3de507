import Fleet
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresTestSupport
import Queue
import Risk
import SystemPackage
import Testing

@testable import WebConsole

/// The fleet page (`web --database`) in process against a real PostgreSQL:
/// every host's proposals with their host's name, filters, the diff from the
/// mirrored current file, decisions as claims in the database, named
/// operators' one-time links, removal mid-session, approval thresholds and
/// the live feed from LISTEN.
@Suite(
    "Fleet web page", .serialized,
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil))
struct FleetWebTests {
    /// A fresh server and a migrated database for `body`, with a page on it.
    func withFleet(
        threshold: Int = 1,
        _ body: @escaping @Sendable (FleetPage) async throws -> Void
    ) async throws {
        let server = try await PostgresServer.start()
        defer { server.destroy() }
        try server.createDatabase("fleet")
        var settings = try FleetDatabaseSettings.parse(server.url(database: "fleet"), source: "the test")
        settings.password = PostgresServer.superuserPassword
        try await FleetStore.withStore(settings: settings) { store in
            try await store.migrator.migrate()
            let logger = Logger(label: "fleet-web-tests")
            let fleet = FleetWeb(
                store: store, operators: OperatorStore(client: store.client, logger: logger),
                approvals: FleetApprovals(client: store.client, logger: logger),
                threshold: ApprovalThreshold(critical: threshold))
            try await body(FleetPage(server: server, store: store, fleet: fleet))
        }
    }

    @Test("every host's proposals with their host, filtered by host and bottle; a page with the diff, agent text inert")
    func fleetList() async throws {
        try await withFleet { page in
            let first = try await page.mirror(host: "alpha", bottle: "web", justification: "pip needs PyPI <script>x</script>")
            let second = try await page.mirror(host: "beta", bottle: "db", justification: "backups to S3")
            let head = String(repeating: "3f", count: 32)
            try await page.store.recordAuditHead(host: FleetHostName("alpha"), head: head, records: 1204)
            try await page.test { client in
                let cookie = try await page.signIn("alice", client: client)
                let all = try await client.get("/", cookie: cookie)
                #expect(all.status == .ok)
                // The hosts with their audit chains: alpha's as its relay sent it, beta's not sent yet.
                #expect(all.html.contains("The fleet's hosts (2)"))
                #expect(all.html.contains(#"<td>1,204</td><td><code title="\#(head)">3f3f3f3f3f3f</code></td>"#))
                #expect(all.html.contains(#"<td>not sent yet</td><td><code title="">—</code></td>"#))
                #expect(all.html.contains(#"data-host="alpha""#) && all.html.contains(#"data-host="beta""#))
                #expect(all.html.contains("/fleet/alpha/web/\(first.id)"))
                #expect(all.html.contains("Signed in as alice"))
                #expect(all.html.contains(#"<option value="alpha">alpha</option><option value="beta">beta</option>"#))
                #expect(!all.html.contains("<script>x"))
                let onlyBeta = try await client.get("/fragments/proposals?host=beta", cookie: cookie)
                #expect(onlyBeta.html.contains(second.id.rawValue) && !onlyBeta.html.contains(first.id.rawValue))
                let onlyWeb = try await client.get("/fragments/proposals?bottle=web", cookie: cookie)
                #expect(onlyWeb.html.contains(first.id.rawValue) && !onlyWeb.html.contains(second.id.rawValue))
                #expect(!all.html.contains(#"id="more""#))
                let nothing = try await client.get("/fragments/proposals?host=alpha&bottle=db", cookie: cookie)
                #expect(nothing.html.contains("No pending proposals on any host"))
            }
            let one = {
                var limited = page
                limited.fleet.listLimit = 1
                return limited
            }()
            try await one.test { client in
                let cookie = try await one.signIn("bob", client: client)
                let cut = try await client.get("/fragments/proposals", cookie: cookie)
                #expect(cut.html.contains(first.id.rawValue) && !cut.html.contains(second.id.rawValue))
                #expect(cut.html.contains("Showing 1–1 of 2 pending proposals, oldest first. Choose a host or a bottle"))
                #expect(cut.html.contains(#"<a href="/?offset=1" id="next-page">next 1 →</a>"#))
                #expect(!cut.html.contains("previous-page"))
                // The next page: the other proposal, a link back, none onward; the live refetch keeps the query.
                let next = try await client.get("/fragments/proposals?offset=1", cookie: cookie)
                #expect(next.html.contains(second.id.rawValue) && !next.html.contains(first.id.rawValue))
                #expect(next.html.contains("Showing 2–2 of 2"))
                #expect(next.html.contains(#"<a href="/" id="previous-page">← previous 1</a>"#))
                #expect(!next.html.contains("next-page"))
                let full = try await client.get("/?offset=1", cookie: cookie)
                #expect(full.html.contains(second.id.rawValue) && !full.html.contains(first.id.rawValue))
                // A filter is kept in the links (host and bottle names need no escaping: they are checked names).
                let filtered = try await client.get("/fragments/proposals?host=alpha&offset=0", cookie: cookie)
                #expect(filtered.html.contains(first.id.rawValue) && !filtered.html.contains(#"id="more""#))
                for odd in ["-5", "abc", "99999999999999999999999"] {
                    let first = try await client.get("/fragments/proposals?offset=\(odd)", cookie: cookie)
                    #expect(first.html.contains("Showing 1–1 of 2"), "offset=\(odd) is the first page")
                }
                let past = try await client.get("/fragments/proposals?offset=7&bottle=db", cookie: cookie)
                #expect(past.html.contains("Showing none of 1"))
                #expect(past.html.contains(#"<a href="/?bottle=db&amp;offset=6" id="previous-page">"#))
            }
            try await page.test { client in
                let cookie = try await page.signIn("carol", client: client)

                let proposal = try await client.get("/fleet/alpha/web/\(first.id)", cookie: cookie)
                #expect(proposal.status == .ok)
                #expect(proposal.html.contains("host alpha"))
                #expect(proposal.html.contains(#"<span class="add">+pypi.org</span>"#))
                #expect(proposal.html.contains("&lt;script&gt;x&lt;/script&gt;"))
                #expect(proposal.html.contains(#"action="/fleet/alpha/web/\#(first.id)/decide""#))
                #expect(!proposal.html.contains("approve-remember"))
                let wrongHost = try await client.get("/fleet/beta/web/\(first.id)", cookie: cookie)
                #expect(wrongHost.status == .notFound)
            }
        }
    }

    @Test("a decision is a claim bound to the digest shown; the second operator is told who won")
    func decideThroughTheDatabase() async throws {
        try await withFleet { page in
            let proposal = try await page.mirror(host: "alpha", bottle: "web")
            let path = "/fleet/alpha/web/\(proposal.id)"
            try await page.test { client in
                let alice = try await page.signIn("alice", client: client)
                let bob = try await page.signIn("bob", client: client)
                let alicesView = try await client.review(path, cookie: alice)
                let bobsView = try await client.review(path, cookie: bob)

                let stale = try await client.post(
                    path + "/decide", cookie: alice,
                    form: "action=approve&csrf=\(alicesView.csrf)&reviewed=\(String(repeating: "0", count: 64))")
                #expect(stale.status == .conflict)
                #expect(stale.html.contains("nothing was decided"))
                let wrongToken = try await client.post(
                    path + "/decide", cookie: alice, form: "action=approve&csrf=\(bobsView.csrf)&reviewed=\(alicesView.reviewed)")
                #expect(wrongToken.status == .forbidden)
                #expect(try await page.decision(proposal) == nil)

                let won = try await client.post(
                    path + "/decide", cookie: alice,
                    form: "action=approve&csrf=\(alicesView.csrf)&reviewed=\(alicesView.reviewed)&notes=ok")
                #expect(won.status == .seeOther)
                #expect(won.location == path + "?done=approved")
                let decision = try #require(try await page.decision(proposal))
                #expect(decision.status == .approved)
                #expect(decision.decidedBy == "alice")
                #expect(decision.proposalSHA256 == alicesView.reviewed)
                #expect(decision.delivery == .awaitingHost)

                let lost = try await client.post(
                    path + "/decide", cookie: bob,
                    form: "action=reject&csrf=\(bobsView.csrf)&reviewed=\(bobsView.reviewed)&notes=no")
                #expect(lost.status == .conflict)
                #expect(lost.html.contains("Already approved by alice (on host alpha); nothing was changed."))
                #expect(try await page.decision(proposal)?.decidedBy == "alice")

                let shown = try await client.get(path, cookie: bob)
                #expect(shown.html.contains("Waiting for alpha&#39;s relay") || shown.html.contains("Waiting for alpha's relay"))
                #expect(
                    shown.html.contains("Recorded by database role &quot;postgres&quot;.")
                        || shown.html.contains("Recorded by database role &#34;postgres&#34;."), "the role the database authenticated")
                let list = try await client.get("/fragments/proposals", cookie: bob)
                #expect(!list.html.contains(proposal.id.rawValue))
            }
        }
    }

    @Test("an operator's link: only its digest stored, shown without being spent, one use, expires, refused cross-site; Secure cookie under TLS")
    func operatorLinks() async throws {
        try await withFleet { page in
            let (token, _, isNew) = try await page.fleet.operators.add(try #require(FleetOperatorName("carol")))
            #expect(isNew)
            let stored = try page.server.psql("SELECT token_sha256 FROM fleet_operator_tokens", database: "fleet")
            #expect(stored == OperatorToken.digest(token))
            #expect(try page.server.psql("SELECT count(*) FROM fleet_operator_tokens WHERE token_sha256 = '\(token)'", database: "fleet") == "0")
            try await page.test { client in
                for _ in 0..<2 {
                    let shown = try await client.get("/login/operator?token=\(token)")
                    #expect(shown.status == .ok)
                    #expect(shown.html.contains("Sign in as carol"))
                }
                let crossSite = try await client.post(
                    "/login/operator", form: "token=\(token)", origin: "http://evil.example")
                #expect(crossSite.status == .forbidden)
                let signedIn = try await client.post("/login/operator", form: "token=\(token)")
                #expect(signedIn.status == .seeOther)
                let cookie = try #require(signedIn.setCookie)
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
                let again = try await client.post("/login/operator", form: "token=\(token)")
                #expect(again.status == .forbidden)
                #expect(again.setCookie == nil)
                #expect(again.html.contains("already used, has expired"))
                let reshown = try await client.get("/login/operator?token=\(token)")
                #expect(reshown.status == .forbidden)

                let (late, _, _) = try await page.fleet.operators.add(try #require(FleetOperatorName("carol")))
                try page.server.psql(
                    "UPDATE fleet_operator_tokens SET expires_at = now() - interval '1 second' WHERE token_sha256 = '\(OperatorToken.digest(late))'",
                    database: "fleet")
                let expired = try await client.post("/login/operator", form: "token=\(late)")
                #expect(expired.status == .forbidden)
                #expect(expired.setCookie == nil)
                let garbage = try await client.post("/login/operator", form: "token=%27%20OR%201%3D1")
                #expect(garbage.status == .forbidden)
            }
            let (overTLS, _, _) = try await page.fleet.operators.add(try #require(FleetOperatorName("carol")))
            try await page.test(tls: true) { client in
                let signedIn = try await client.post("/login/operator", form: "token=\(overTLS)")
                #expect(signedIn.status == .seeOther)
                #expect(signedIn.setCookie?.contains("Secure") == true, "\(signedIn.setCookie ?? "no cookie")")
            }
            let listed = try await page.fleet.operators.list()
            #expect(listed.map(\.name.rawValue) == ["carol"])
            #expect(listed.first?.lastSignIn != nil)
            #expect(listed.first?.openLinks == 0)
        }
    }

    @Test("an operator removed mid-session is signed out at the next request and decides nothing; their links die")
    func removedOperator() async throws {
        try await withFleet { page in
            let proposal = try await page.mirror(host: "alpha", bottle: "web")
            let path = "/fleet/alpha/web/\(proposal.id)"
            try await page.test { client in
                let dave = try await page.signIn("dave", client: client)
                let view = try await client.review(path, cookie: dave)
                let (spare, _, _) = try await page.fleet.operators.add(try #require(FleetOperatorName("dave")))
                #expect(try await page.fleet.operators.remove(try #require(FleetOperatorName("dave"))))
                #expect(try await page.fleet.operators.remove(try #require(FleetOperatorName("dave"))) == false)

                let decided = try await client.post(
                    path + "/decide", cookie: dave, form: "action=approve&csrf=\(view.csrf)&reviewed=\(view.reviewed)")
                #expect(decided.status == .forbidden)
                #expect(try await page.decision(proposal) == nil)
                let list = try await client.get("/", cookie: dave)
                #expect(list.status == .unauthorized)
                let spent = try await client.post("/login/operator", form: "token=\(spare)")
                #expect(spent.status == .forbidden)
            }
        }
    }

    @Test("a name removed and added again does not revive its old sessions; a database error refuses the request but ends no session")
    func operatorIdentityAndOutage() async throws {
        try await withFleet { page in
            try await page.test { client in
                let erin = try await page.signIn("erin", client: client)
                let frank = try await page.signIn("frank", client: client)
                #expect(try await client.get("/", cookie: erin).status == .ok)

                // The database cannot answer: refused, nobody signed out.
                try page.server.psql("ALTER TABLE fleet_operators RENAME TO fleet_operators_away", database: "fleet")
                let outage = try await client.get("/", cookie: frank)
                #expect(outage.status == .serviceUnavailable)
                #expect(outage.html.contains("cannot say whether frank is still an operator"))
                try page.server.psql("ALTER TABLE fleet_operators_away RENAME TO fleet_operators", database: "fleet")
                #expect(try await client.get("/", cookie: frank).status == .ok)

                // Removed and added again: another operator of the same name; the old session stays ended.
                let name = try #require(FleetOperatorName("erin"))
                #expect(try await page.fleet.operators.remove(name))
                _ = try await page.fleet.operators.add(name)
                let revived = try await client.get("/", cookie: erin)
                #expect(revived.status == .unauthorized)
                #expect(revived.html.contains("no longer the operator this session signed in as"))
                let again = try await page.signIn("erin", client: client)
                #expect(try await client.get("/", cookie: again).status == .ok)
                #expect(try await client.get("/", cookie: erin).status == .unauthorized)
            }
        }
    }

    @Test("a critical proposal needs N distinct operators' approvals; the last one writes the decision; one rejection rejects")
    func threshold() async throws {
        try await withFleet(threshold: 2) { page in
            let critical = try await page.mirror(
                host: "alpha", bottle: "web", file: "api.github.com\n169.254.169.254\n", critical: true)
            let rejected = try await page.mirror(
                host: "alpha", bottle: "web", file: "api.github.com\nmetadata.google.internal\n", critical: true)
            let plain = try await page.mirror(host: "beta", bottle: "web")
            try await page.test { client in
                let alice = try await page.signIn("alice", client: client)
                let bob = try await page.signIn("bob", client: client)
                let path = "/fleet/alpha/web/\(critical.id)"
                let first = try await client.review(path, cookie: alice)
                #expect(
                    first.html.contains(
                        "needs 2 approvals from distinct operators (a critical risk hint, [fleet] approvals of this console): none of 2 so far."))
                for _ in 0..<2 {
                    let approved = try await client.post(
                        path + "/decide", cookie: alice, form: "action=approve&csrf=\(first.csrf)&reviewed=\(first.reviewed)")
                    #expect(approved.status == .seeOther)
                    #expect(approved.location == path + "?done=approval")
                }
                #expect(try await page.decision(critical) == nil)
                let list = try await client.get("/fragments/proposals", cookie: bob)
                #expect(list.html.contains("1 of 2 approvals"))
                let second = try await client.review(path, cookie: bob)
                #expect(second.html.contains("1 of 2 so far, by alice."))
                let met = try await client.post(
                    path + "/decide", cookie: bob, form: "action=approve&csrf=\(second.csrf)&reviewed=\(second.reviewed)")
                #expect(met.location == path + "?done=approved")
                let decision = try #require(try await page.decision(critical))
                #expect(decision.status == .approved)
                #expect(decision.decidedBy == "alice, bob")

                let rejectPath = "/fleet/alpha/web/\(rejected.id)"
                let view = try await client.review(rejectPath, cookie: alice)
                let approval = try await client.post(
                    rejectPath + "/decide", cookie: alice, form: "action=approve&csrf=\(view.csrf)&reviewed=\(view.reviewed)")
                #expect(approval.location == rejectPath + "?done=approval")
                let bobs = try await client.review(rejectPath, cookie: bob)
                let rejection = try await client.post(
                    rejectPath + "/decide", cookie: bob,
                    form: "action=reject&csrf=\(bobs.csrf)&reviewed=\(bobs.reviewed)&notes=not+the+metadata+service")
                #expect(rejection.location == rejectPath + "?done=rejected")
                #expect(try await page.decision(rejected)?.status == .rejected)
                #expect(try await page.decision(rejected)?.decidedBy == "bob")

                let plainPath = "/fleet/beta/web/\(plain.id)"
                let plainView = try await client.review(plainPath, cookie: alice)
                let one = try await client.post(
                    plainPath + "/decide", cookie: alice, form: "action=approve&csrf=\(plainView.csrf)&reviewed=\(plainView.reviewed)")
                #expect(one.location == plainPath + "?done=approved")
            }
        }
    }

    @Test("Modify cannot bypass a threshold: approvals bind to the file applied; a modified file's own hints set the count")
    func modifyBindsApprovalsToTheFile() async throws {
        try await withFleet(threshold: 2) { page in
            let critical = try await page.mirror(
                host: "alpha", bottle: "web", file: "api.github.com\n169.254.169.254\n", critical: true)
            let harmless = try await page.mirror(host: "beta", bottle: "web")
            try await page.test { client in
                let alice = try await page.signIn("alice", client: client)
                let bob = try await page.signIn("bob", client: client)

                // Alice approves as proposed; Bob's modified file is another file: her approval does not count toward it.
                let path = "/fleet/alpha/web/\(critical.id)"
                let approved = try await client.decide(path, cookie: alice)
                #expect(approved.location == path + "?done=approval")
                let modified = try await client.decide(path, cookie: bob, "action=modify&final_file=api.github.com%0A169.254.169.254%0A10.0.0.1%0A")
                #expect(modified.location == path + "?done=approval")
                #expect(try await page.decision(critical) == nil)

                // One operator cannot Modify a harmless proposal into a critical file alone.
                let harmlessPath = "/fleet/beta/web/\(harmless.id)"
                let widened = try await client.decide(harmlessPath, cookie: alice, "action=modify&final_file=api.github.com%0A10.0.0.1%0A")
                #expect(widened.location == harmlessPath + "?done=approval")
                #expect(try await page.decision(harmless) == nil)
                // A second operator approving that same file meets the threshold, and the decision carries the file.
                let met = try await client.decide(harmlessPath, cookie: bob, "action=modify&final_file=api.github.com%0A10.0.0.1%0A")
                #expect(met.location == harmlessPath + "?done=modified")
                let decision = try #require(try await page.decision(harmless))
                #expect(decision.status == .modified)
                #expect(decision.finalFile == "api.github.com\n10.0.0.1\n")
                #expect(decision.decidedBy == "alice, bob")
            }
        }
    }

    @Test("the owning host's count (a rule's approvals, its [fleet] approvals for a critical file) binds a page set to 1; the page says where it comes from")
    func hostsRequirement() async throws {
        try await withFleet(threshold: 1) { page in
            let held = try await page.mirror(
                host: "alpha", bottle: "web", approvals: HostApprovals(required: 2, rule: "hold-prod", critical: 3))
            let harmless = try await page.mirror(host: "beta", bottle: "web", approvals: HostApprovals(critical: 3))
            let plain = try await page.mirror(
                host: "beta", bottle: "db", approvals: HostApprovals(required: 4, rule: "hold-db", critical: 1))
            try await page.test { client in
                let alice = try await page.signIn("alice", client: client)
                let bob = try await page.signIn("bob", client: client)
                let path = "/fleet/alpha/web/\(held.id)"
                let first = try await client.review(path, cookie: alice)
                #expect(
                    first.html.contains(
                        "This needs 2 approvals from distinct operators (rule hold-prod on host alpha): none of 2 so far."),
                    "\(first.html)")
                #expect(try await client.decide(path, cookie: alice).location == path + "?done=approval")
                #expect(try await page.decision(held) == nil)
                #expect(try await client.get("/fragments/proposals", cookie: bob).html.contains("1 of 2 approvals"))
                let second = try await client.review(path, cookie: bob)
                #expect(second.html.contains("(rule hold-prod on host alpha): 1 of 2 so far, by alice."))
                #expect(try await client.decide(path, cookie: bob).location == path + "?done=approved")
                #expect(try await page.decision(held)?.decidedBy == "alice, bob")

                // Host beta asks 3 for a critical file: a Modify into one needs 3 here too, though this page says 1.
                let harmlessPath = "/fleet/beta/web/\(harmless.id)"
                let widen = "action=modify&final_file=api.github.com%0A10.0.0.1%0A"
                for cookie in [alice, bob] {
                    #expect(try await client.decide(harmlessPath, cookie: cookie, widen).location == harmlessPath + "?done=approval")
                }
                #expect(try await page.decision(harmless) == nil)
                // As proposed it needs one: the host asks nothing more of a harmless file.
                let carol = try await page.signIn("carol", client: client)
                #expect(try await client.decide(harmlessPath, cookie: carol).location == harmlessPath + "?done=approved")

                // A rejection needs nobody else, whatever the count.
                let plainPath = "/fleet/beta/db/\(plain.id)"
                let rejected = try await client.decide(plainPath, cookie: alice, "action=reject&notes=not+now")
                #expect(rejected.location == plainPath + "?done=rejected")
                #expect(try await page.decision(plain)?.decidedBy == "alice")
            }
        }
    }

    @Test("one person is not two: the host's access-token session decides nothing on the fleet page")
    func hostLoginDecidesNothing() async throws {
        try await withFleet(threshold: 2) { page in
            let critical = try await page.mirror(
                host: "alpha", bottle: "web", file: "api.github.com\n169.254.169.254\n", critical: true)
            let path = "/fleet/alpha/web/\(critical.id)"
            try await page.test { client in
                let login = try await client.post("/login", form: "token=\(String(repeating: "cd", count: 32))")
                #expect(login.status == .seeOther)
                let setCookie = try #require(login.setCookie)
                let host = String(setCookie.dropFirst("bs_session=".count).prefix { $0 != ";" })
                let refused = try await client.decide(path, cookie: host)
                #expect(refused.status == .forbidden)
                #expect(refused.html.contains("Only named operators decide on the fleet page"))
                #expect(try page.server.psql("SELECT count(*) FROM fleet_approvals", database: "fleet") == "0")
            }
        }
    }

    @Test("an approval of an operator removed since does not count toward a threshold")
    func removedOperatorsApprovalDoesNotCount() async throws {
        try await withFleet(threshold: 2) { page in
            let critical = try await page.mirror(
                host: "alpha", bottle: "web", file: "api.github.com\n169.254.169.254\n", critical: true)
            let path = "/fleet/alpha/web/\(critical.id)"
            try await page.test { client in
                let alice = try await page.signIn("alice", client: client)
                _ = try await client.decide(path, cookie: alice)
                #expect(try await page.fleet.operators.remove(try #require(FleetOperatorName("alice"))))
                let bob = try await page.signIn("bob", client: client)
                let bobsView = try await client.review(path, cookie: bob)
                #expect(bobsView.html.contains("none of 2 so far."))
                let alone = try await client.post(
                    path + "/decide", cookie: bob, form: "action=approve&csrf=\(bobsView.csrf)&reviewed=\(bobsView.reviewed)")
                #expect(alone.location == path + "?done=approval")
                #expect(try await page.decision(critical) == nil)
            }
        }
    }

    /// The proposal's page is live: its status part is refetched on every change the database
    /// announces (the event stream test below shows a NOTIFY reaching the page), and says what
    /// happened elsewhere — a claim, its delivery or refusal, a withdrawal on the host.
    @Test("a proposal's page follows the fleet: decided, delivered, refused or withdrawn elsewhere shows in its live part")
    func liveProposalPage() async throws {
        try await withFleet { page in
            let proposal = try await page.mirror(host: "alpha", bottle: "web")
            let other = try await page.mirror(host: "alpha", bottle: "web", file: "api.github.com\nfiles.example\n")
            let path = "/fleet/alpha/web/\(proposal.id)"
            try await page.test { client in
                let cookie = try await page.signIn("alice", client: client)
                let full = try await client.get(path, cookie: cookie)
                #expect(full.html.contains(#"<div id="fleet-status" data-src="\#(path)/status" aria-live="polite">"#))
                #expect(full.html.contains(#"<p class="message" id="fleet-state" data-open="true">Pending on alpha; the agent is not connected.</p>"#))
                #expect(full.html.contains(#"<script src="/static/live.js"></script>"#) && full.html.contains(#"class="decide""#))
                let script = try await client.get("/static/live.js", cookie: cookie)
                #expect(script.html.contains(#"getElementById("fleet-status")"#) && script.html.contains(#"querySelector("section.decide")"#))

                // Claimed elsewhere (another operator's page, approve --database): awaiting its host.
                let row = try #require(try await page.store.proposals(id: proposal.id).first)
                let claim = FleetDecisionRow(
                    host: row.host, bottle: row.bottle, id: row.id, status: .approved, decidedBy: "bob",
                    proposalSHA256: row.proposalSHA256)
                guard case .won = try await page.store.decide(claim) else {
                    Issue.record("the claim did not win")
                    return
                }
                let claimed = try await client.get(path + "/status", cookie: cookie)
                #expect(claimed.status == .ok && claimed.html.contains(#"data-open="false">Decided: approved by bob at "#))
                #expect(claimed.html.contains("Waiting for alpha&#39;s relay to apply it") || claimed.html.contains("Waiting for alpha's relay"))
                // Its host's word: refused (delivered reads the same way, with the apply's summary).
                _ = try await page.store.recordDelivery(
                    host: row.host, bottle: row.bottle, id: row.id, .refused(reason: "the proposal changed since bob reviewed it"))
                let refused = try await client.get(path + "/status", cookie: cookie)
                #expect(refused.html.contains("alpha refused it: the proposal changed since bob reviewed it"))

                // Withdrawn on its host, undecided: the mirror archives it.
                let hostName = try FleetHostName("alpha")
                let otherRow = try #require(try await page.store.proposals(id: other.id).first)
                var archived = otherRow
                archived.archived = true
                archived.decision = nil
                try await page.store.mirror(FleetSnapshot(host: hostName, bottle: otherRow.bottle, proposals: [archived]))
                let gone = try await client.get("/fleet/alpha/web/\(other.id)/status", cookie: cookie)
                #expect(gone.html.contains(#"data-open="false">No longer pending on alpha: withdrawn or expired without a decision."#))
                let missing = try await client.get("/fleet/alpha/web/20260101-000000-000000000000/status", cookie: cookie)
                #expect(missing.status == .notFound)
            }
        }
    }

    @Test("a proposal mirrored from any host reaches every open page's event stream (LISTEN)")
    func live() async throws {
        try await withFleet { page in
            let broadcast = QueueBroadcast()
            let stream = await broadcast.subscribe()
            let events = EventCount()
            let counting = Task { for await message in stream where message.hasPrefix("event: queue") { await events.add() } }
            let forwarding = Task {
                await FleetLiveFeed(store: page.store, logger: Logger(label: "fleet-web-tests")).forward(to: broadcast)
            }
            defer {
                forwarding.cancel()
                counting.cancel()
            }
            let deadline = ContinuousClock.now + .seconds(10)
            // The forwarder announces itself once its LISTEN is up.
            while await events.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let before = await events.value
            #expect(before >= 1, "the forwarder never started")
            _ = try await page.mirror(host: "gamma", bottle: "web")
            while await events.value == before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await events.value > before, "no event within 10 s of a mirrored proposal")
        }
    }
}

/// What the fleet page computes without a database.
@Suite("Fleet page: values")
struct FleetViewsTests {
    @Test("decided_by names every approver within the 256 bytes a host accepts, the rest counted")
    func deciders() {
        #expect(FleetViews.deciders(["alice"]) == "alice")
        #expect(FleetViews.deciders(["alice", "bob"]) == "alice, bob")
        let many = (1...16).map { String(repeating: "o", count: 60) + String(format: "%02d", $0) }
        let text = FleetViews.deciders(many)
        #expect(text.utf8.count <= 256)
        #expect(text.hasPrefix(many[0] + ", " + many[1]))
        #expect(text.hasSuffix(" and 13 more"), "\(text)")
    }
}

/// Counts the events a page's stream received.
actor EventCount {
    private(set) var value = 0
    func add() { value += 1 }
}

/// A fleet database with a page on it, and what the tests do with both.
struct FleetPage: Sendable {
    let server: PostgresServer
    let store: FleetStore
    var fleet: FleetWeb
    let sessions = SessionStore(accessToken: String(repeating: "cd", count: 32))

    /// Puts a pending proposal of `host`'s bottle into the database as its relay would.
    func mirror(
        host: String, bottle: String, justification: String = "pip needs PyPI",
        file: String = "api.github.com\npypi.org\n", critical: Bool = false, approvals: HostApprovals = HostApprovals()
    ) async throws -> Proposal {
        let hostName = try FleetHostName(host)
        let slug = try BottleSlug(bottle)
        let current = "api.github.com\n"
        let proposal = Proposal(
            bottle: slug, tool: .pipelockBlock, proposedFile: file, justification: justification,
            currentFileSHA256: SHA256Hex.of(current))
        let hints = critical ? [RiskHint(.critical, "metadata-service", "a metadata service", line: 2)] : []
        try await store.registerHost(hostName, version: "test")
        let existing = try await store.proposals(host: hostName, bottle: slug, includeDecided: false)
        var row = FleetProposalRow(
            host: hostName, bottle: slug, id: proposal.id, tool: proposal.tool, proposal: try QueueFormat.encode(proposal),
            proposedFile: file, justification: justification, createdAt: proposal.createdAt, riskHints: hints,
            currentFile: current)
        row.hostApprovals = approvals
        try await store.mirror(FleetSnapshot(host: hostName, bottle: slug, proposals: existing + [row]))
        return proposal
    }

    func decision(_ proposal: Proposal) async throws -> FleetDecisionRow? {
        try await store.proposals(id: proposal.id).first?.decision
    }

    /// `tls`: the page as configured for HTTPS (the router alone: no certificate is loaded).
    func test(tls: Bool = false, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = WebConsoleConfiguration(
            tokenFile: FilePath("/nonexistent/token"), queueRoot: FilePath("/nonexistent/queue"),
            configRoot: FilePath("/nonexistent/bottles"))
        configuration.fleet = fleet
        if tls { configuration.tlsCertificate = FilePath("/nonexistent/cert.pem") }
        let router = WebConsole(configuration: configuration).makeRouter(sessions: sessions, broadcast: QueueBroadcast())
        try await Application(router: router).test(.router, body)
    }

    /// Adds the operator and signs in with their link: the session cookie's value.
    func signIn(_ name: String, client: any TestClientProtocol) async throws -> String {
        let (token, _, _) = try await fleet.operators.add(try #require(FleetOperatorName(name)))
        let response = try await client.post("/login/operator", form: "token=\(token)")
        #expect(response.status == .seeOther)
        let cookie = try #require(response.setCookie)
        return String(cookie.dropFirst("bs_session=".count).prefix { $0 != ";" })
    }
}

/// A response as the tests read it.
struct PageResponse {
    let status: HTTPResponse.Status
    let html: String
    let location: String?
    let setCookie: String?
}

extension TestClientProtocol {
    func get(_ uri: String, cookie: String? = nil) async throws -> PageResponse {
        try await send(uri, method: .get, cookie: cookie, form: nil, origin: nil)
    }

    func post(_ uri: String, cookie: String? = nil, form: String, origin: String? = nil) async throws -> PageResponse {
        try await send(uri, method: .post, cookie: cookie, form: form, origin: origin)
    }

    /// Opens a proposal's page and posts `fields` to its decide URL with the page's CSRF token and digest.
    func decide(_ path: String, cookie: String, _ fields: String = "action=approve") async throws -> PageResponse {
        let view = try await review(path, cookie: cookie)
        return try await post(path + "/decide", cookie: cookie, form: "\(fields)&csrf=\(view.csrf)&reviewed=\(view.reviewed)")
    }

    /// Opens a proposal's page: its CSRF token and the digest it shows.
    func review(_ uri: String, cookie: String) async throws -> (csrf: String, reviewed: String, html: String) {
        let page = try await get(uri, cookie: cookie)
        #expect(page.status == .ok, "\(uri): \(page.status) \(page.html)")
        func field(_ name: String) throws -> String {
            let range = try #require(page.html.range(of: "name=\"\(name)\" value=\""))
            return String(page.html[range.upperBound...].prefix { $0 != "\"" })
        }
        return (try field("csrf"), try field("reviewed"), page.html)
    }

    private func send(_ uri: String, method: HTTPRequest.Method, cookie: String?, form: String?, origin: String?)
        async throws -> PageResponse
    {
        var fields = HTTPFields()
        if let cookie { fields[.cookie] = "bs_session=\(cookie)" }
        if let origin { fields[.origin] = origin }
        if form != nil { fields[.contentType] = "application/x-www-form-urlencoded" }
        return try await execute(uri: uri, method: method, headers: fields, body: form.map { ByteBuffer(string: $0) }) {
            PageResponse(
                status: $0.status, html: String(buffer: $0.body), location: $0.headers[.location],
                setCookie: $0.headers[.setCookie])
        }
    }
}
