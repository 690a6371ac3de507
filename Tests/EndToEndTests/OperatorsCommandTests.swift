import Foundation
import PostgresTestSupport
import Testing

/// `bottle-supervise operators` and `web --database` at the command line:
/// what each prints and its exit status, against a real PostgreSQL.
@Suite(
    "operators and web --database at the command line", .serialized,
    .enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil))
struct OperatorsCommandTests {
    let scratch = Scratch()

    var environment: [String: String] {
        [
            "PGPASSWORD": PostgresServer.superuserPassword, "HOME": scratch.path, "SUPERVISE_DATABASE_URL": "",
            "SUPERVISE_SETTINGS": scratch.write("", at: "host.toml"),
        ]
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.run(
            [BuiltBinary.path] + arguments, environment: environment.merging(extra) { $1 }, timeout: .seconds(30))
    }

    @Test("add prints a one-time link (again: a new one), list shows it unused, remove removes (3 when none)")
    func addListRemove() async throws {
        let server = try await PostgresServer.start()
        defer { server.destroy() }
        let url = try server.createDatabase("fleet")
        let added = try run(["operators", "add", "alice", "--database", url, "--web-url", "https://review.example:9443/"])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.out.hasPrefix("added operator alice; the link works once, until "))
        let link = try #require(added.out.split(separator: "\n").last).trimmingCharacters(in: .whitespaces)
        #expect(link.hasPrefix("https://review.example:9443/login/operator?token="))
        let token = String(link.dropFirst("https://review.example:9443/login/operator?token=".count))
        #expect(token.count == 64)
        #expect(try server.psql("SELECT count(*) FROM fleet_operator_tokens WHERE token_sha256 = '\(token)'", database: "fleet") == "0")

        let again = try run(["operators", "add", "alice", "--database", url, "--valid-for", "30m"])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.hasPrefix("new sign-in link for alice"))
        #expect(again.out.contains("http://127.0.0.1:9200/login/operator?token="))

        let listed = try run(["operators", "list", "--database", url])
        #expect(listed.status == 0, "\(listed.err)")
        let row = try #require(listed.out.split(separator: "\n").first { $0.hasPrefix("alice") })
        #expect(row.split(separator: " ").suffix(2) == ["never", "2"], "\(listed.out)")

        #expect(try run(["operators", "remove", "alice", "--database", url]).status == 0)
        let missing = try run(["operators", "remove", "alice", "--database", url])
        #expect(missing.status == 3)
        #expect(missing.err.contains("no operator alice"))
        #expect(try run(["operators", "list", "--database", url]).out.contains("no operators"))
    }

    @Test("without a database, with a bad name or a bad [fleet] approvals: refused before anything connects")
    func refusals() throws {
        let none = try run(["operators", "list"])
        #expect(none.status == 2)
        #expect(none.err.contains("--database"))
        let badName = try run(["operators", "add", "Alice Smith", "--database", "postgres://ops@127.0.0.1:1/fleet"])
        #expect(badName.status == 2)
        #expect(badName.err.contains("Alice Smith"))
        let withPassword = try run(["operators", "list", "--database", "postgres://ops:secret@127.0.0.1:1/fleet"])
        #expect(withPassword.status == 2)
        #expect(withPassword.err.contains("PGPASSWORD"))
        let settings = scratch.write("[fleet]\napprovals = 0\n", at: "approvals.toml")
        let badThreshold = try run(
            ["web", "--database", "postgres://ops@127.0.0.1:1/fleet", "--settings", settings, "--port", "0",
             "--token-file", scratch.path + "/web-token"])
        #expect(badThreshold.status == 1)
        #expect(badThreshold.err.contains(settings) && badThreshold.err.contains("approvals"), "\(badThreshold.err)")
    }

    @Test("sslmode=require to a host across a network: warned about before connecting, with the fix")
    func unverifiedTLSWarned() throws {
        // 0.0.0.0 is not loopback by name, and refuses at once on a closed port.
        for command in [["operators", "list"], ["list"]] {
            let result = try run(command + ["--database", "postgres://ops@0.0.0.0:1/fleet?sslmode=require"])
            #expect(result.status != 0)
            #expect(result.err.contains("warning: --database has sslmode=require"), "\(command): \(result.err)")
            #expect(result.err.contains("use sslmode=verify-full"), "\(result.err)")
        }
        let quiet = try run(["operators", "list", "--database", "postgres://ops@127.0.0.1:1/fleet?sslmode=require"])
        #expect(!quiet.err.contains("warning"), "\(quiet.err)")
    }
}
