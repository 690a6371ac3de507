import FileAccess
import Foundation
import Queue

/// A host with one bottle for the grant tests: the sidecar (`serve`) on the
/// host over the bottle's queue directory, a stand-in `<slug>-pipelock`
/// container (busybox, the bottle's config mounted at /config; each start
/// appends the allowlist it loaded to /starts) restarted by the bottle's
/// reload action through an isolated podman, and the operator's CLI.
final class GrantHost: @unchecked Sendable {
    let podman: PodmanHost
    let slug: String
    let queueRoot: String
    let configRoot: String
    /// podman with the isolated storage flags, as `SUPERVISE_ENGINE` and in the reload action.
    let engine: String
    let scratch = Scratch()
    private var sidecar: Process?
    private let sidecarLog = LockedText()
    private(set) var port = 0

    var configDirectory: String { configRoot + "/" + slug }
    var queueDirectory: String { queueRoot + "/" + slug }
    var url: String { "http://127.0.0.1:\(port)/mcp" }
    var pipelock: String { "\(slug)-pipelock" }

    init(allowlist: String, grants: String = "") throws {
        podman = try PodmanHost()
        slug = "bs-grant-\(UUID().uuidString.prefix(6).lowercased())"
        queueRoot = podman.root + "/queue"
        configRoot = podman.root + "/bottles"
        engine = podman.root + "/podman-isolated"
        let wrapper =
            "#!/bin/sh\nexec env CONTAINERS_CONF='\(podman.containersConf)' podman "
            + podman.globalFlags.map { "'\($0)'" }.joined(separator: " ") + " \"$@\"\n"
        try wrapper.write(toFile: engine, atomically: true, encoding: .utf8)
        chmod(engine, 0o755)
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: queueDirectory, withIntermediateDirectories: true)
        try AtomicFile.write(Data(allowlist.utf8), to: .init(configDirectory + "/allowlist"))
        // -t 0: busybox sh as PID 1 is stopped at once, as pipelock's restart cuts its connections.
        try AtomicFile.write(
            Data(
                "[reload.allowlist]\ncommand = [\"\(engine)\", \"restart\", \"-t\", \"0\", \"{slug}-pipelock\"]\ntimeout = 60\n\(grants)"
                    .utf8),
            to: .init(configDirectory + "/supervise.toml"))
        try podman.podman([
            "run", "-d", "--name", pipelock, "--network", "none", "-v", "\(configDirectory):/config:ro",
            PodmanHost.image, "/busybox", "sh", "-c", DeploymentTests.pipelock,
        ])
        try startSidecar()
    }

    func tearDown() {
        if let sidecar, sidecar.isRunning {
            sidecar.terminate()
            sidecar.waitUntilExit()
        }
        podman.tearDown()
    }

    private func startSidecar() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        process.arguments = [
            "serve", "--slug", slug, "--queue-dir", queueDirectory, "--current-config", configDirectory, "--port", "0",
        ]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let log = sidecarLog
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            log.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
        sidecar = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, process.isRunning {
            let text = log.text
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                if port > 0 { return }
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw E2EFailure("the sidecar did not start:\n\(log.text)")
    }

    /// The environment of every host command: the roots, the engine, and a settings file with
    /// nothing in it (no notification channel, no standing rule).
    var environment: [String: String] {
        let settings = podman.root + "/host.toml"
        if !FileManager.default.fileExists(atPath: settings) {
            _ = FileManager.default.createFile(atPath: settings, contents: Data("# no channels, no rules\n".utf8))
        }
        return [
            "SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": configRoot, "SUPERVISE_ENGINE": engine,
            "SUPERVISE_SETTINGS": settings, "NO_COLOR": "1",
        ]
    }

    /// Runs an operator command on the host.
    func cli(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.run([BuiltBinary.path] + arguments, environment: environment, timeout: .seconds(120))
    }

    /// Starts `bottle-supervise watch`; its standard error goes to `log`. Returns its pid.
    /// - Parameter settings: `$SUPERVISE_SETTINGS` instead of the empty settings file.
    func startWatch(log: String, settings: String? = nil) throws -> pid_t {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        var environment = self.environment
        if let settings { environment["SUPERVISE_SETTINGS"] = settings }
        let pid = try ApplyFixtures.spawn([BuiltBinary.path, "watch"], environment: environment, stderr: fd)
        let started = (0..<500).contains { _ in
            Thread.sleep(forTimeInterval: 0.02)
            return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("grant expiry")
        }
        guard started else {
            kill(pid, SIGKILL)
            throw E2EFailure("watch did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return pid
    }

    /// Stops a process started by ``startWatch(log:)`` and reaps it.
    func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// The agent asks for `allowlist` (or another tool's file) through the Python MCP client; the call is held.
    func ask(_ text: String, tool: String = "pipelock-block") throws -> PythonClient.Run {
        let file = scratch.write(text, at: "ask-\(UUID().uuidString.prefix(8))")
        return try PythonClient.Run(["call", url, "auto", tool, file])
    }

    /// The agent's `proposal-status` for `id`.
    func status(of id: String) throws -> [String: Any] {
        try PythonClient.run(["call", url, "auto", "proposal-status", scratch.write(id, at: "id-\(id)")])
    }

    /// The pending proposal ids now.
    func pendingIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: queueDirectory)) ?? []
        return names.filter { $0.hasSuffix(".proposal.json") }.map { String($0.dropLast(".proposal.json".count)) }
            .filter { !names.contains("\($0).decision.json") }.sorted()
    }

    /// The id of the pending proposal whose file is `text`, once the sidecar has queued it.
    func pendingID(for text: String) async throws -> String {
        var id: String?
        let queue = QueueRoot(.init(queueRoot)).queue(for: try BottleSlug(slug))
        _ = await ApplyFixtures.eventually(timeout: .seconds(30)) {
            id = pendingIDs().first { candidate in
                (try? queue.proposal(ProposalID(candidate)))?.proposedFile == text
            }
            return id != nil
        }
        guard let id else { throw E2EFailure("no pending proposal for \(text)\n\(sidecarLog.text)") }
        return id
    }

    /// The bottle's allowlist now.
    func allowlist() throws -> String {
        try String(contentsOfFile: configDirectory + "/allowlist", encoding: .utf8)
    }

    /// What the pipelock stand-in has loaded, one block per start.
    func starts() -> [String] {
        let text = (try? podman.podman(["exec", pipelock, "/busybox", "cat", "/starts"])) ?? ""
        return text.components(separatedBy: "---\n").filter { !$0.isEmpty }
    }

    /// The audit log's records.
    func audit() throws -> [[String: Any]] {
        let text = (try? String(contentsOfFile: queueRoot + "/audit.log", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }
}
