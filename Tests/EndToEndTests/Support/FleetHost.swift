import Foundation
import PostgresTestSupport
import Synchronization

/// One host of a fleet test: its own queue and config roots with the bottle `web` served by a real
/// sidecar (``ServedBottle``), an empty settings file, the fleet's database (a real PostgreSQL from
/// PostgresTestSupport), and the relays it starts (`bottle-supervise relay --host-name NAME`).
final class FleetHost: Sendable {
    let name: String
    let bottle: ServedBottle
    /// The fleet's database URL (its role's password comes through $PGPASSWORD).
    let database: String
    /// The password of the URL's role (the superuser's unless the test gave the host a role of its own).
    let password: String

    /// - Parameter reload: the bottle's allowlist reload command (``ServedBottle``).
    init(_ name: String, database: String, password: String = PostgresServer.superuserPassword, reload: [String] = ["true"])
        throws
    {
        self.name = name
        self.database = database
        self.password = password
        bottle = try ServedBottle(reload: reload)
        bottle.scratch.write("# no channels, no rules\n", at: "host.toml")
    }

    var scratch: Scratch { bottle.scratch }
    var allowlistPath: String { bottle.configDirectory + "/allowlist" }

    /// Every host command's environment: this host's roots and settings, the database's password.
    var environment: [String: String] {
        [
            "SUPERVISE_QUEUE_ROOT": bottle.queueRoot, "SUPERVISE_CONFIG_ROOT": bottle.configRoot,
            "SUPERVISE_SETTINGS": scratch.path + "/host.toml", "NO_COLOR": "1",
            "PGPASSWORD": password,
        ]
    }

    /// Runs `bottle-supervise ARGUMENTS` on this host.
    func cli(_ arguments: [String], timeout: Duration = .seconds(90)) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.run([BuiltBinary.path] + arguments, environment: environment, timeout: timeout)
    }

    /// `bottle-supervise ARGUMENTS --database URL` on this host.
    func fleet(_ arguments: [String], timeout: Duration = .seconds(90)) throws -> (status: Int32, out: String, err: String) {
        try cli(arguments + ["--database", database], timeout: timeout)
    }

    /// Starts a relay for this host, and waits until it has caught up.
    func startRelay() async throws -> RelayProcess {
        let relay = try RelayProcess(host: self)
        guard await relay.waitFor("caught up") else {
            relay.kill()
            throw E2EFailure("the relay of host \(name) did not catch up:\n\(relay.log)")
        }
        return relay
    }

    /// The agent on this host asks for `allowlist` through the Python MCP client; the call is held.
    /// Returns the proposal's id once the sidecar has queued it, and the running call.
    func ask(_ allowlist: String) async throws -> (id: String, call: PythonClient.Run) {
        let before = Set(bottle.sidecar.pendingIDs())
        let file = scratch.write(allowlist, at: "ask-\(UUID().uuidString.prefix(8))")
        let call = try PythonClient.Run(["call", bottle.url, "auto", "pipelock-block", file])
        var id: String?
        _ = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            id = Set(bottle.sidecar.pendingIDs()).subtracting(before).first
            return id != nil
        }
        guard let id else {
            call.kill()
            throw E2EFailure("the agent's proposal never reached host \(name)'s queue:\n\(bottle.sidecar.stderrText)")
        }
        return (id, call)
    }

    /// The bottle's allowlist now.
    func allowlist() -> String { (try? String(contentsOfFile: allowlistPath, encoding: .utf8)) ?? "" }

    /// The host's audit records of decisions on `id` (one per decision the host made).
    func decisionRecords(of id: String) -> [[String: Any]] { auditRecords(of: id, event: "decision") }

    /// The host's audit records of `event` (`decision`, `apply`, …) on `id`.
    func auditRecords(of id: String, event: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: bottle.queueRoot + "/audit.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["event"] as? String == event && $0["id"] as? String == id }
    }
}

/// A running `bottle-supervise relay` (standard error to a file), killed when let go.
final class RelayProcess: Sendable {
    let pid: pid_t
    let logPath: String
    private let reaped = Mutex(false)

    init(host: FleetHost) throws {
        logPath = host.scratch.path + "/relay-\(UUID().uuidString.prefix(6)).log"
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        pid = try ApplyFixtures.spawn(
            [BuiltBinary.path, "relay", "--database", host.database, "--host-name", host.name],
            environment: host.environment, stderr: fd)
    }

    deinit { kill() }

    /// What it has said on standard error.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits (up to `timeout`) until its log has said `text` `count` times.
    func waitFor(_ text: String, count: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
        await ApplyFixtures.eventually(timeout: timeout) { self.log.components(separatedBy: text).count - 1 >= count }
    }

    /// SIGKILL, as a crash or an OOM kill would, and reaps it.
    func kill() { _ = signal(SIGKILL) }

    /// SIGTERM, as systemd stops it, and reaps it; returns its exit status.
    @discardableResult
    func stop() -> Int32 { signal(SIGTERM) }

    private func signal(_ number: Int32) -> Int32 {
        reaped.withLock { reaped in
            guard !reaped else { return -1 }
            reaped = true
            Glibc.kill(pid, number)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }
    }
}

/// A fleet for one test: a fresh PostgreSQL, a database, and hosts `a` and `b` on it.
struct FleetOfTwo {
    let server: PostgresServer
    let database: String
    let a: FleetHost
    let b: FleetHost

    /// - Parameter reloadA: host a's allowlist reload command.
    static func start(reloadA: [String] = ["true"]) async throws -> FleetOfTwo {
        let server = try await PostgresServer.start()
        let name = "fleet_\(UUID().uuidString.prefix(8).lowercased())"
        let database = try server.createDatabase(name)
        return FleetOfTwo(
            server: server, database: database, a: try FleetHost("a", database: database, reload: reloadA),
            b: try FleetHost("b", database: database))
    }

    /// A fleet whose relays connect with roles of their own, as docs/fleet.md sets them up: the
    /// schema migrated by its owner (`relay --migrate-only`), then LOGIN roles `relay_a` and
    /// `relay_b` in the relay group and `ops` in the operator group, each with `password`.
    static func startWithRoles(password: String) async throws -> FleetOfTwo {
        let server = try await PostgresServer.start()
        let name = "fleet_\(UUID().uuidString.prefix(8).lowercased())"
        let owner = try server.createDatabase(name)
        let migrated = try ApplyFixtures.run(
            [BuiltBinary.path, "relay", "--migrate-only", "--database", owner],
            environment: ["PGPASSWORD": PostgresServer.superuserPassword, "NO_COLOR": "1"])
        guard migrated.status == 0 else { throw E2EFailure("relay --migrate-only failed: \(migrated.err)") }
        for (role, group) in [("relay_a", "bottle_supervise_relay"), ("relay_b", "bottle_supervise_relay"), ("ops", "bottle_supervise_operator")] {
            try server.createRole(role, password: password, attributes: "IN ROLE \(group)")
        }
        return FleetOfTwo(
            server: server, database: owner,
            a: try FleetHost("a", database: server.url(database: name, role: "relay_a"), password: password),
            b: try FleetHost("b", database: server.url(database: name, role: "relay_b"), password: password))
    }

    /// Runs SQL on the fleet's database as the superuser.
    func sql(_ text: String) throws -> String {
        try server.psql(text, database: String(database.split(separator: "/").last ?? ""))
    }
}
