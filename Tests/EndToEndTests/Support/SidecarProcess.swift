import Foundation
import Synchronization

/// A running `bottle-supervise serve --port 0` over a scratch queue and
/// current-config directory, stopped (SIGTERM) when released.
final class SidecarProcess: Sendable {
    let scratch: Scratch
    let process: Process
    let port: Int
    private let errors: LockedText

    var url: String { "http://127.0.0.1:\(port)/mcp" }
    /// The bottle's queue directory (`--queue-dir`).
    let queueDirectory: String
    var stderrText: String { errors.text }

    /// - Parameters:
    ///   - scratch: an existing scratch directory (its queue), to start a sidecar again over it.
    ///   - queue, current: the queue and current-config directories, relative to the scratch directory
    ///     (an operator's layout is `queue/web` and `bottles/web`, under a queue root and a config root).
    ///   - queueDirectory, currentConfig: the same as absolute paths, for a host laid out elsewhere.
    init(
        keepalive: Double = 15, currentFiles: [String: String] = [:], arguments: [String] = [],
        scratch existing: Scratch? = nil, queue: String = "queue", current: String = "current",
        queueDirectory: String? = nil, currentConfig: String? = nil
    ) throws {
        scratch = existing ?? Scratch()
        self.queueDirectory = queueDirectory ?? scratch.path + "/" + queue
        let currentConfig = currentConfig ?? scratch.path + "/" + current
        for (name, text) in currentFiles { scratch.write(text, at: "\(current)/\(name)") }
        try FileManager.default.createDirectory(atPath: currentConfig, withIntermediateDirectories: true)
        // The host makes the queue directory; serve refuses to start without one.
        try FileManager.default.createDirectory(atPath: self.queueDirectory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        process.arguments =
            [
                "serve", "--slug", "web", "--queue-dir", self.queueDirectory, "--current-config",
                currentConfig, "--port", "0", "--keepalive", String(keepalive),
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
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let text = errors.text
            if let range = text.range(of: "bottle-supervise: listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                found = Int(digits)
            } else {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        guard let found else {
            process.terminate()
            throw E2EFailure("the sidecar did not report its address:\n\(errors.text)")
        }
        port = found
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// The proposals waiting in the queue directory (ids), polled until at least `count` appear.
    func waitForPending(_ count: Int = 1, timeout: TimeInterval = 15) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let ids = pendingIDs()
            if ids.count >= count { return ids }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw E2EFailure("no pending proposal appeared in \(queueDirectory)\n\(stderrText)")
    }

    func pendingIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: queueDirectory)) ?? []
        return names.filter { $0.hasSuffix(".proposal.json") }.map { String($0.dropLast(".proposal.json".count)) }
            .filter { !names.contains("\($0).decision.json") }.sorted()
    }

    /// Waits (up to `timeout`) until the queue records that the agent stopped waiting on `id`.
    func waitForStoppedWaiting(_ id: String, timeout: TimeInterval = 30) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let path = "\(queueDirectory)/\(id).stopped-waiting"
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else {
                throw E2EFailure("the agent never stopped waiting on \(id)\nsidecar log:\n\(stderrText)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }

    func isWaiting(_ id: String) -> Bool { FileManager.default.fileExists(atPath: "\(queueDirectory)/\(id).waiting") }
}

struct E2EFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Text appended from a pipe's reader and read by the test.
final class LockedText: Sendable {
    private let value = Mutex("")
    var text: String { value.withLock { $0 } }
    func append(_ more: String) { value.withLock { $0 += more } }
}
