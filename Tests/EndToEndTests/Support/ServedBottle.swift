import Foundation

/// One bottle on this host as an operator has it: a queue root and a config root under a scratch
/// directory, the bottle `web` with a current allowlist and reload actions of its own
/// (`supervise.toml`), and the real `bottle-supervise serve` for it on a free loopback port.
/// The sidecar stops (SIGTERM) when this is released.
final class ServedBottle: Sendable {
    let scratch = Scratch()
    /// The running `serve` (its queue directory is `queue/web`, its current config `bottles/web`).
    let sidecar: SidecarProcess

    var url: String { sidecar.url }
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var queueDirectory: String { sidecar.queueDirectory }
    var configDirectory: String { configRoot + "/web" }

    /// - Parameters:
    ///   - reload: the allowlist's reload command (an argument vector; `{file}` is the file).
    ///   - arguments: more `serve` flags (such as `--hold-limit 1`).
    init(reload: [String] = ["true"], arguments: [String] = []) throws {
        let reloadLine = reload.map { "\"\($0)\"" }.joined(separator: ", ")
        sidecar = try SidecarProcess(
            currentFiles: ["allowlist": "api.github.com\n", "supervise.toml": "[reload.allowlist]\ncommand = [\(reloadLine)]\n"],
            arguments: arguments, scratch: scratch, queue: "queue/web", current: "bottles/web")
    }

    /// The ids of the pending proposals, once `count` are there (up to `timeout`).
    func waitForPending(_ count: Int = 1, timeout: TimeInterval = 20) throws -> [String] {
        try sidecar.waitForPending(count, timeout: timeout)
    }

    /// The agent asks (`bottle-supervise ask`, in the background) for `file` as the allowlist; returns
    /// the proposal's id once it is queued, and the running ask.
    func ask(_ file: String, justification: String = "needs it") throws -> (id: String, asked: BackgroundCommand) {
        let path = scratch.write(file, at: "proposed-\(UUID().uuidString.prefix(6))")
        let asked = try BackgroundCommand([
            BuiltBinary.path, "ask", "pipelock-block", path, "--justification", justification, "--url", url,
        ])
        guard let id = try waitForPending().first else { throw E2EFailure("no proposal queued") }
        return (id, asked)
    }

    /// An operator command over this bottle's roots.
    func operatorCommand(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.operatorCommand(arguments, queueRoot: queueRoot, configRoot: configRoot)
    }
}

/// A command run in the background (standard output and error to files, so no pipe fills up),
/// finished with a deadline.
final class BackgroundCommand: Sendable {
    let process: Process
    /// Where its standard output goes (readable while it runs).
    let outputPath: String
    /// Where its standard error goes (readable while it runs).
    let errorPath: String

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID().uuidString.prefix(8))").path
        outputPath = base + ".out"
        errorPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Its standard output so far.
    var outputSoFar: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    /// Its standard error so far.
    var errorSoFar: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` for the command to end (then kills it and throws).
    func finish(timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        let out = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw E2EFailure("still running after \(timeout) s:\nstdout: \(out)\nstderr: \(err)")
        }
        return (process.terminationStatus, out, err)
    }
}
