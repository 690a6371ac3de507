import Foundation
import Queue
import Testing

/// The deployment the README's "Deploy next to a bottle" section describes,
/// on a real engine: the sidecar image built by `scripts/build-image`, run
/// as a container with the host's queue directory bind-mounted and the
/// bottle's config mounted read-only; the official Python MCP client plays
/// the agent through the published port; the operator decides on the host
/// with the CLI (umask 077, as a careful operator has it); the approved
/// files reach stand-in pipelock and cred-proxy containers, which the
/// default reload actions restart and signal through `SUPERVISE_ENGINE`.
///
/// Runs where podman, root and busybox-static are (as ApplyPodmanTests);
/// elsewhere it is skipped with that reason. The image holds the binary
/// under test (the debug build; `SUPERVISE_TEST_IMAGE_BINARY` picks another,
/// such as the static build): docs/deployment.md says why.
@Suite(
    .enabled(
        if: PodmanHost.isUsable,
        "needs podman on PATH, root, and /bin/busybox from busybox-static (apt-get install -y podman runc busybox-static)"
    ),
    .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"),
    .serialized)
struct DeploymentTests {
    static let allowlist = "api.one.example\n"
    static let routes = #"{"routes": [{"host": "api.one.example", "header": "Authorization"}]}"# + "\n"

    /// pipelock's stand-in: each start appends the allowlist it loaded to /starts.
    static let pipelock = """
        trap 'exit 0' TERM
        /busybox cat /config/allowlist >> /starts; echo --- >> /starts
        while :; do /busybox sleep 1 & wait $!; done
        """
    /// cred-proxy's stand-in: each SIGHUP appends the routes it reloaded to /reloads.
    static let credProxy = """
        trap 'exit 0' TERM
        trap '/busybox cat /config/routes.json >> /reloads; echo --- >> /reloads' HUP
        : > /reloads
        while :; do /busybox sleep 1 & wait $!; done
        """

    /// Once per network backend installed here: podman picks netavark where it is installed (a
    /// Debian install with recommended packages) and CNI otherwise, so a user may have either.
    @Test(
        "agent → sidecar container → operator's CLI on the host → pipelock restarted, cred-proxy signalled",
        arguments: NetworkBackend.installed)
    func deployment(backend: NetworkBackend) async throws {
        let podman = try PodmanHost()
        let bottle = try DeployedBottle(podman: podman, backend: backend)
        defer { bottle.tearDown() }
        #expect(bottle.networkBackend == backend.rawValue)
        #expect(bottle.image == "localhost/bottle-supervise:\(ProductVersion.current)")

        // The image: scratch, non-root, no shell, the health check kept.
        let config = try JSONSerialization.jsonObject(
            with: Data(try podman.podman(["image", "inspect", "--format", "{{json .Config}}", bottle.image]).utf8))
            as? [String: Any]
        #expect(config?["User"] as? String == "10001:10001")
        #expect(config?["Entrypoint"] as? [String] == ["/usr/local/bin/bottle-supervise", "serve"])
        #expect((config?["Env"] as? [String])?.contains("SUPERVISE_BIND=0.0.0.0") == true)
        #expect((config?["ExposedPorts"] as? [String: Any])?.keys.contains("9100/tcp") == true)
        let healthcheck = try podman.podman(["image", "inspect", "--format", "{{json .Config.Healthcheck}}", bottle.image])
        #expect(healthcheck.contains(#"["CMD","/usr/local/bin/bottle-supervise","health"]"#), "\(healthcheck)")
        let shell = try ApplyFixtures.run([bottle.engine, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh",
            bottle.image, "-c", "true"])
        #expect(shell.status != 0, "the image has no shell")

        try bottle.writeConfig(["allowlist": Self.allowlist, "routes.json": Self.routes])
        try bottle.makeQueueDirectory()
        try bottle.runStandIn("\(bottle.slug)-pipelock", script: Self.pipelock)
        try bottle.runStandIn("\(bottle.slug)-cred-proxy", script: Self.credProxy)

        let port = try DeployedBottle.freePort()
        let clock = ContinuousClock()
        let started = clock.now
        let sidecar = try bottle.runSidecar(port: port)
        let healthy = await ApplyFixtures.eventually(timeout: .seconds(60)) { bottle.isHealthy(sidecar) }
        let logs = { bottle.logs(sidecar) }
        #expect(healthy, "the health check never passed:\n\(logs())")
        print("sidecar container: podman run to healthy in \(clock.now - started)")
        let mounts = try podman.podman(["inspect", "--format", "{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}", sidecar])
        #expect(mounts.contains("/etc/claude-bottle/current-config=false"), "the config is read-only: \(mounts)")
        #expect(mounts.contains("/run/supervise/queue=true"), "\(mounts)")
        // The sidecar runs as the image's user, not root.
        let pid = try podman.pid(of: sidecar)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.split(separator: "\n").contains { $0.hasPrefix("Uid:\t10001\t") }, "\(status)")

        let url = "http://127.0.0.1:\(port)/mcp"
        // The engine by its variable (the isolated-storage wrapper); the roots by flag, as an operator types them.
        let environment = ["SUPERVISE_ENGINE": bottle.engine, "NO_COLOR": "1"]
        let roots = ["--queue-root", bottle.queueRoot, "--config-root", bottle.configRoot]
        let scratch = Scratch()

        // 1. The allowlist: approved on the host, pipelock restarted with it.
        let allowlist = Self.allowlist + "api.two.example\n"
        let asked = try PythonClient.Run(
            ["call", url, "auto", "pipelock-block", scratch.write(allowlist, at: "allowlist")])
        let first = try await pending(in: bottle, count: 1, logs: logs)
        var info = stat()
        #expect(stat(bottle.queueDirectory + "/\(first).proposal.json", &info) == 0 && info.st_uid == 10001,
            "the sidecar's user wrote the proposal through the bind mount")
        let approved = try decide(["approve", first, "--notes", "go ahead"] + roots, environment: environment)
        #expect(approved.status == 0, "\(approved.out)\(approved.err)")
        let answer = try asked.finish(timeout: 90)
        let structured = answer["structured"] as? [String: Any]
        #expect(structured?["status"] as? String == "approved", "\(answer)\n\(logs())")
        #expect((answer["text"] as? String)?.contains("applied") == true, "\(answer)")
        let restarted = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            ((try? bottle.read("/starts", in: "\(bottle.slug)-pipelock")) ?? "").contains("api.two.example")
        }
        #expect(restarted, "pipelock's stand-in never started with the new allowlist")
        let starts = try bottle.read("/starts", in: "\(bottle.slug)-pipelock")
        #expect(starts == Self.allowlist + "---\n" + allowlist + "---\n", "\(starts)")
        // The operator's smoke test of a deployed sidecar, from the host through the published port:
        // `ask --status` reads the same answer the agent got.
        let smoke = try ApplyFixtures.run(
            [BuiltBinary.path, "ask", "--status", first, "--url", url], timeout: .seconds(60))
        #expect(smoke.status == 0, "\(smoke.out)\(smoke.err)")
        #expect(smoke.out.contains("status: approved"), "\(smoke.out)")

        // 2. routes.json: approved on the host, cred-proxy signalled and reloading it.
        let routes = #"{"routes": [{"host": "api.one.example", "header": "Authorization"}, {"host": "api.two.example", "header": "X-Key"}]}"# + "\n"
        let askedRoutes = try PythonClient.Run(
            ["call", url, "auto", "cred-proxy-block", scratch.write(routes, at: "routes.json")])
        let second = try await pending(in: bottle, count: 1, logs: logs)
        let approvedRoutes = try decide(["approve", second] + roots, environment: environment)
        #expect(approvedRoutes.status == 0, "\(approvedRoutes.out)\(approvedRoutes.err)")
        let routesAnswer = try askedRoutes.finish(timeout: 90)
        #expect((routesAnswer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(routesAnswer)")
        let reloaded = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            ((try? bottle.read("/reloads", in: "\(bottle.slug)-cred-proxy")) ?? "") == routes + "---\n"
        }
        #expect(reloaded, "cred-proxy's stand-in: \((try? bottle.read("/reloads", in: "\(bottle.slug)-cred-proxy")) ?? "")")

        // 3. A rejection: the agent reads the operator's notes; nothing is reloaded.
        let askedAgain = try PythonClient.Run(
            ["call", url, "auto", "pipelock-block", scratch.write(allowlist + "evil.example\n", at: "allowlist2")])
        let third = try await pending(in: bottle, count: 1, logs: logs)
        let rejected = try decide(["reject", third, "--notes", "not that host"] + roots, environment: environment)
        #expect(rejected.status == 0, "\(rejected.out)\(rejected.err)")
        let rejection = try askedAgain.finish(timeout: 90)
        #expect((rejection["structured"] as? [String: Any])?["status"] as? String == "rejected", "\(rejection)")
        #expect((rejection["text"] as? String)?.contains("not that host") == true, "\(rejection)")
        #expect(try bottle.read("/starts", in: "\(bottle.slug)-pipelock") == starts)

        // The sidecar read the host's decisions (root's, umask 077) and archived them itself.
        let archived = await ApplyFixtures.eventually(timeout: .seconds(15)) {
            [first, second, third].allSatisfy {
                FileManager.default.fileExists(atPath: bottle.queueDirectory + "/archive/\($0).decision.json")
            }
        }
        #expect(archived, "\((try? FileManager.default.contentsOfDirectory(atPath: bottle.queueDirectory)) ?? [])")
    }

    @Test("a queue directory the sidecar's user cannot write, or no mount at all: the container stops at once and says what to run")
    func unwritableQueueDirectory() async throws {
        let podman = try PodmanHost()
        // The backend podman picks by itself, as on a user's machine (read back from `podman info`).
        let bottle = try DeployedBottle(podman: podman)
        defer { bottle.tearDown() }
        #expect(NetworkBackend.installed.map(\.rawValue).contains(bottle.networkBackend), "\(bottle.networkBackend)")
        try bottle.writeConfig(["allowlist": Self.allowlist])
        // As `mkdir` leaves it for root: 0755, root's.
        try bottle.makeQueueDirectory(owner: "0:0", mode: "0755")

        let sidecar = try bottle.runSidecar(port: try DeployedBottle.freePort())
        let status = try podman.podman(["wait", sidecar]).trimmingCharacters(in: .whitespacesAndNewlines)
        let logs = bottle.logs(sidecar)
        #expect(status == "1", "exit status \(status)\n\(logs)")
        #expect(logs.contains("/run/supervise/queue is not writable for this sidecar, which runs as uid 10001"), "\(logs)")
        #expect(logs.contains("sudo chown -R 10001:10001"), "\(logs)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bottle.queueDirectory).isEmpty)

        _ = try podman.podman(["rm", "-f", "-t", "0", sidecar])
        let unmounted = try bottle.runSidecar(port: try DeployedBottle.freePort(), mounts: false)
        let unmountedStatus = try podman.podman(["wait", unmounted]).trimmingCharacters(in: .whitespacesAndNewlines)
        let unmountedLogs = bottle.logs(unmounted)
        #expect(unmountedStatus == "1", "exit status \(unmountedStatus)\n\(unmountedLogs)")
        #expect(unmountedLogs.contains("bind-mount the host's queue directory"), "\(unmountedLogs)")
    }

    /// The one pending proposal's id, once the sidecar has queued it (up to 30 s).
    private func pending(in bottle: DeployedBottle, count: Int, logs: () -> String) async throws -> String {
        var found: [String] = []
        _ = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: bottle.queueDirectory)) ?? []
            found = names.filter { $0.hasSuffix(".proposal.json") }.map { String($0.dropLast(".proposal.json".count)) }
                .filter { !names.contains("\($0).decision.json") }
            return found.count >= count
        }
        guard found.count == count, let id = found.first else {
            throw E2EFailure("expected \(count) pending proposal(s), found \(found)\n\(logs())")
        }
        return id
    }

    /// An operator command on the host, run with `umask 077`.
    private func decide(_ arguments: [String], environment: [String: String]) throws -> (
        status: Int32, out: String, err: String
    ) {
        try ApplyFixtures.run(
            ["sh", "-c", "umask 077; exec \"$0\" \"$@\"", BuiltBinary.path] + arguments, environment: environment,
            timeout: .seconds(120))
    }
}
