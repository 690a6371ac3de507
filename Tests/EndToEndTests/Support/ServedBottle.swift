import Foundation
import Synchronization

/// One bottle on this host as an operator has it: a queue root and a config root under a scratch
/// directory, the bottle `web` with a current allowlist and reload actions of its own
/// (`supervise.toml`), and the real `bottle-supervise serve` for it on a free loopback port.
/// The sidecar stops (SIGTERM) when this is released.
final class ServedBottle: Sendable {
    let scratch = Scratch()
    let process: Process
    let port: Int
    private let errors: LockedText

    var url: String { "http://127.0.0.1:\(port)/mcp" }
    var queueRoot: String { scratch.path + "/queue" }
    var configRoot: String { scratch.path + "/bottles" }
    var queueDirectory: String { queueRoot + "/web" }
    var configDirectory: String { configRoot + "/web" }

    /// - Parameters:
    ///   - reload: the allowlist's reload command (an argument vector; `{file}` is the file).
    ///   - arguments: more `serve` flags (such as `--hold-limit 1`).
    init(reload: [String] = ["true"], arguments: [String] = []) throws {
        let reloadLine = reload.map { "\"\($0)\"" }.joined(separator: ", ")
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\(reloadLine)]\n", at: "bottles/web/supervise.toml")
        try FileManager.default.createDirectory(atPath: scratch.path + "/queue/web", withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        process.arguments =
            [
                "serve", "--slug", "web", "--queue-dir", scratch.path + "/queue/web", "--current-config",
                scratch.path + "/bottles/web", "--port", "0",
            ] + arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let errors = LockedText()
        self.errors = errors
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            errors.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while Date() < deadline, process.isRunning, found == nil {
            if let range = errors.text.range(of: "listening on http://127.0.0.1:") {
                found = Int(errors.text[range.upperBound...].prefix { $0.isNumber })
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        guard let found else {
            process.terminate()
            throw E2EFailure("serve did not start within 20 s:\n\(errors.text)")
        }
        port = found
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// The sidecar's standard error so far.
    var stderrText: String { errors.text }

    /// The ids of the pending proposals, once `count` are there (up to `timeout`).
    func waitForPending(_ count: Int = 1, timeout: TimeInterval = 20) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: queueDirectory)) ?? []
            let ids = names.filter { $0.hasSuffix(".proposal.json") }.map { String($0.dropLast(".proposal.json".count)) }
                .filter { id in !names.contains("\(id).decision.json") }
            if ids.count >= count { return ids.sorted() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw E2EFailure("no \(count) pending proposal(s) in \(queueDirectory) within \(timeout) s:\n\(errors.text)")
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
