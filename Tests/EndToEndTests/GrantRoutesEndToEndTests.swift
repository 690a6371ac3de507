import Apply
import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

/// A routes grant against a real reloadable process (the stand-in cred-proxy
/// that reloads routes.json on SIGHUP), through the CLI: the route the grant
/// added is live, and after `revoke` the proxy has reloaded the routes as they
/// were — with a route added by hand meanwhile kept.
@Suite(.serialized) struct GrantRoutesEndToEndTests {
    static let v1 = #"{"routes": [{"name": "one", "host": "api.one.example", "header": "Authorization"}]}"# + "\n"
    static let v2 =
        #"{"routes": [{"name": "one", "host": "api.one.example", "header": "Authorization", "methods": ["GET", "POST"]}, {"name": "two", "host": "api.two.example", "header": "X-Key"}]}"#
        + "\n"

    @Test("a routes grant: added and changed routes live until revoke, then the proxy reloads them as they were")
    func routesGrant() async throws {
        let host = try await ReloadableBottle(routes: Self.v1)
        try host.configure(host.hupSettings + "\n[grants.routes]\nmaximum = \"1h\"\n")
        let proposal = try await host.propose(Self.v2)
        let approved = try host.cli(["approve", proposal.id.rawValue, "--for", "30m", "--expect-sha256", reviewedSHA256(proposal)!])
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        #expect(try host.loaded().routes == (try ReloadableBottle.canonical(Self.v2)))

        // Meanwhile a route is added by hand: not the grant's, so it stays.
        let withManual =
            #"{"routes": [{"name": "one", "host": "api.one.example", "header": "Authorization", "methods": ["GET", "POST"]}, {"name": "two", "host": "api.two.example", "header": "X-Key"}, {"name": "three", "host": "api.three.example"}]}"#
        try AtomicFile.write(Data(withManual.utf8), to: FilePath(host.routesPath))

        let listed = try host.cli(["grants", "--json"])
        let grants = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any])?["grants"] as? [[String: Any]])
        let holdings = try #require(grants.first?["holdings"] as? [String: Any])
        #expect((holdings["routes_added"] as? [String])?.count == 1, "\(holdings)")
        #expect((holdings["routes_changed"] as? [[String: Any]])?.count == 1, "\(holdings)")

        let revoked = try host.cli(["revoke", proposal.id.rawValue])
        #expect(revoked.status == 0, "\(revoked.out)\(revoked.err)")
        let expected = #"{"routes": [{"name": "one", "host": "api.one.example", "header": "Authorization"}, {"name": "three", "host": "api.three.example"}]}"#
        let loaded = try host.loaded()
        #expect(loaded.routes == (try ReloadableBottle.canonical(expected)), "\(loaded)")
        #expect(loaded.error == nil)
        let audit = try AuditLog(queueRoot: host.queueRoot).records()
        #expect(audit.last?.event == .revoke)
        #expect(audit.last?.apply?.summary.contains("took out route") == true, "\(audit.last?.apply?.summary ?? "")")
    }
}
