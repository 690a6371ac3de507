import Foundation
import Queue
import SystemPackage
import Testing

/// How the binary starts in a deployment: `serve` refuses a queue directory
/// it cannot use (with the exit statuses of PRODUCT.md and a message that
/// says what to run), `health` is the image's health check, and files the
/// host writes stay readable by the sidecar's user whatever the operator's umask.
@Suite("serve's start, health, file modes across the bind mount")
struct ServeStartTests {
    let scratch = Scratch()

    func serve(_ arguments: [String], as user: String? = nil, environment: [String: String] = [:]) throws -> (
        status: Int32, out: String, err: String
    ) {
        let command = [BuiltBinary.path, "serve", "--slug", "web", "--port", "0"] + arguments
        let prefix = user.map { ["setpriv", "--reuid", $0, "--regid", $0, "--clear-groups"] } ?? []
        return try ApplyFixtures.run(
            prefix + command, environment: ["SUPERVISE_QUEUE_DIR": ""].merging(environment) { $1 },
            timeout: .seconds(30))
    }

    @Test("a queue directory that does not exist: exit 1, named, and not created")
    func missingDirectory() throws {
        let missing = scratch.path + "/queue/typo"
        let result = try serve(["--queue-dir", missing, "--current-config", scratch.path])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("the queue directory \(missing) does not exist"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test(
        "no --queue-dir and no SUPERVISE_QUEUE_DIR on a host: exit 2, and /run/supervise/queue is not created",
        .enabled(if: access("/run/supervise/queue", F_OK) != 0, "this machine has /run/supervise/queue"))
    func noDirectoryOnAHost() throws {
        let result = try serve(["--current-config", scratch.path])
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("pass --queue-dir DIR or set SUPERVISE_QUEUE_DIR"), "\(result.err)")
        #expect(access("/run/supervise/queue", F_OK) != 0)
    }

    @Test(
        "as the image's user (uid 10001), a root-owned queue directory: exit 1 with the uid and the chown to run",
        .enabled(if: geteuid() == 0 && ServeStartTests.executableByOthers, "needs root (to run the binary as uid 10001) and a binary other users may run"))
    func notWritableForTheSidecarsUser() throws {
        let queue = scratch.path + "/queue"
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        chmod(scratch.path, 0o755)
        chmod(queue, 0o755)
        let result = try serve(["--queue-dir", queue, "--current-config", scratch.path], as: "10001")
        #expect(result.status == 1, "\(result.err)")
        #expect(
            result.err.contains("the queue directory \(queue) is not writable for this sidecar, which runs as uid 10001 (gid 10001)"),
            "\(result.err)")
        #expect(result.err.contains("It belongs to uid 0, gid 0, mode 0755"), "\(result.err)")
        #expect(result.err.contains("sudo chown -R 10001:10001"), "\(result.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue).isEmpty, "nothing written")

        // Given to that user, the same directory works: the sidecar starts and answers. (As a
        // non-root user: TCP_NODELAY once went to SOL_SOCKET, i.e. SO_DEBUG, which only root may
        // set, and every connection was closed unanswered.)
        chown(queue, 10001, 10001)
        let port = String(try DeployedBottle.freePort())
        let started = try ApplyFixtures.run(
            [
                "setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups", "sh", "-c",
                "\"$0\" serve --slug web --port $3 --queue-dir \"$1\" --current-config \"$2\" & sleep 2; "
                    + "\"$0\" health --port $3; status=$?; kill $!; exit $status",
                BuiltBinary.path, queue, scratch.path, port,
            ], timeout: .seconds(30))
        #expect(started.err.contains("listening on http://127.0.0.1:\(port)"), "\(started.err)")
        #expect(started.status == 0, "health as uid 10001: \(started.out)\(started.err)")
        #expect(started.out.contains("healthy: 127.0.0.1:\(port) answered /health"), "\(started.out)")
    }

    @Test(
        "a queue directory shared through the operator's group (2770): a non-root operator decides, the sidecar (uid 10001) answers",
        .enabled(if: geteuid() == 0 && ServeStartTests.executableByOthers, "needs root (to run as uids 10001 and 2000) and a binary other users may run"),
        .enabled(if: PythonClient.python != nil, "\(PythonClient.installHint)"))
    func sharedGroup() async throws {
        // The operator: uid and gid 2000, owning the queue root and the config root.
        let queueRoot = scratch.path + "/queue"
        let queue = queueRoot + "/web"
        let config = scratch.path + "/bottles/web"
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/web/supervise.toml")
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        for path in [scratch.path, queueRoot, scratch.path + "/bottles", config, config + "/allowlist", config + "/supervise.toml"] {
            chown(path, 2000, 2000)
        }
        chmod(scratch.path, 0o755)
        // docs/deployment.md: sudo install -d -o 10001 -g "$(id -g)" -m 2770 …
        chown(queue, 10001, 2000)
        chmod(queue, 0o2770)

        let port = try DeployedBottle.freePort()
        let log = open(scratch.path + "/sidecar.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(log) }
        let sidecar = try ApplyFixtures.spawn(
            [
                "setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups", BuiltBinary.path, "serve",
                "--slug", "web", "--port", String(port), "--queue-dir", queue, "--current-config", config,
            ], stdout: log, stderr: log)
        defer {
            kill(sidecar, SIGTERM)
            var status: Int32 = 0
            waitpid(sidecar, &status, 0)
        }
        let sidecarLog = { (try? String(contentsOfFile: self.scratch.path + "/sidecar.log", encoding: .utf8)) ?? "" }
        let up = await ApplyFixtures.eventually(timeout: .seconds(15)) {
            (try? ApplyFixtures.run([BuiltBinary.path, "health", "--port", String(port)]).status) == 0
        }
        #expect(up, "\(sidecarLog())")

        let asked = try PythonClient.Run(
            ["call", "http://127.0.0.1:\(port)/mcp", "auto", "pipelock-block",
             scratch.write("api.github.com\npypi.org\n", at: "agent/allowlist")])
        var id: String?
        _ = await ApplyFixtures.eventually(timeout: .seconds(15)) {
            id = ((try? FileManager.default.contentsOfDirectory(atPath: queue)) ?? []).first { $0.hasSuffix(".proposal.json") }
                .map { String($0.dropLast(".proposal.json".count)) }
            return id != nil
        }
        let proposal = try #require(id, "no proposal queued\n\(sidecarLog())")
        let decided = try ApplyFixtures.run(
            ["setpriv", "--reuid", "2000", "--regid", "2000", "--clear-groups", BuiltBinary.path, "approve", proposal],
            environment: ["SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": scratch.path + "/bottles"])
        #expect(decided.status == 0, "\(decided.out)\(decided.err)")
        let answer = try asked.finish(timeout: 60)
        #expect((answer["structured"] as? [String: Any])?["status"] as? String == "approved", "\(answer)\n\(sidecarLog())")

        // The sidecar made archive/ with the directory's own rwx bits (not the umask's 0755), so the operator's group can write there too.
        var info = stat()
        #expect(stat(queue + "/archive", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o770, "archive/ is \(String(info.st_mode & 0o7777, radix: 8))")
        #expect(info.st_gid == 2000)
        let archived = await ApplyFixtures.eventually(timeout: .seconds(10)) {
            FileManager.default.fileExists(atPath: queue + "/archive/\(proposal).decision.json")
        }
        #expect(archived, "\(sidecarLog())")
    }

    /// Whether every directory above the binary and the binary itself let another user in.
    static var executableByOthers: Bool {
        var path = URL(fileURLWithPath: BuiltBinary.path).resolvingSymlinksInPath()
        var info = stat()
        guard stat(path.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
        while path.path != "/" {
            path.deleteLastPathComponent()
            guard stat(path.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
        }
        return true
    }

    @Test("health: exit 0 for a running sidecar, 1 (fast) for none; --version is the one version")
    func health() throws {
        let sidecar = try SidecarProcess()
        let healthy = try ApplyFixtures.run([BuiltBinary.path, "health", "--port", String(sidecar.port)])
        #expect(healthy.status == 0, "\(healthy.out)\(healthy.err)")
        #expect(healthy.out == "healthy: 127.0.0.1:\(sidecar.port) answered /health\n")
        let viaEnvironment = try ApplyFixtures.run(
            [BuiltBinary.path, "health"], environment: ["SUPERVISE_PORT": String(sidecar.port), "SUPERVISE_BIND": "0.0.0.0"])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.out)")
        let port = sidecar.port
        sidecar.process.terminate()
        sidecar.process.waitUntilExit()
        let started = ContinuousClock.now
        let down = try ApplyFixtures.run([BuiltBinary.path, "health", "--port", String(port), "--timeout", "1"])
        #expect(down.status == 1)
        #expect(down.out.hasPrefix("unhealthy: cannot connect to 127.0.0.1:\(port)"), "\(down.out)")
        #expect(ContinuousClock.now - started < .seconds(5))

        let version = try ApplyFixtures.run([BuiltBinary.path, "--version"])
        #expect(version.out == ProductVersion.current + "\n")
    }

    @Test("an operator with umask 077 decides: the decision and the new config file are still 0644, readable by the sidecar's user")
    func umask() async throws {
        scratch.write("api.github.com\n", at: "bottles/demo/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/demo/supervise.toml")
        let proposal = Proposal(
            bottle: try BottleSlug("demo"), tool: .pipelockBlock, proposedFile: "api.github.com\npypi.org\n",
            justification: "pip", currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await QueueRoot(FilePath(scratch.path + "/queue")).queue(for: proposal.bottle).submit(proposal)
        let result = try ApplyFixtures.run(
            ["sh", "-c", "umask 077; exec \"$0\" \"$@\"", BuiltBinary.path, "approve", proposal.id.rawValue],
            environment: [
                "SUPERVISE_QUEUE_ROOT": scratch.path + "/queue", "SUPERVISE_CONFIG_ROOT": scratch.path + "/bottles",
            ])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        var info = stat()
        for path in ["queue/demo/\(proposal.id).decision.json", "bottles/demo/allowlist"] {
            #expect(stat(scratch.path + "/" + path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o644, "\(path): \(String(info.st_mode & 0o777, radix: 8))")
        }
    }
}
