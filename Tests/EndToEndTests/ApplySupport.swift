import Foundation
import Queue
import SystemPackage

/// Helpers for the apply step's end-to-end tests: real processes, real files.
enum ApplyFixtures {
    /// `Tests/EndToEndTests/fixtures/`.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "fixtures"
    ).path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The `bottle-supervise` binary: `$BOTTLE_SUPERVISE_BIN`, else the one built beside the tests.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["BOTTLE_SUPERVISE_BIN"] { return path }
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("bottle-supervise").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "bottle-supervise"
    }

    /// Runs a program to completion; returns its exit status, standard output and error.
    @discardableResult
    static func run(_ argv: [String], environment: [String: String]? = nil) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }
}

/// A host with one bottle whose "cred-proxy" is the reloadable fixture process.
final class ReloadableBottle: @unchecked Sendable {
    let root: String
    let queueRoot: FilePath
    let configRoot: FilePath
    let bottle: BottleSlug
    let routesPath: String
    let loadedPath: String
    let pidPath: String
    let argvLog: String
    private let proxy: Process

    init(slug: String = "fixture-bottle", routes: String) async throws {
        root = NSTemporaryDirectory() + "apply-e2e-\(UUID().uuidString.prefix(8))"
        queueRoot = FilePath(root + "/queue")
        configRoot = FilePath(root + "/bottles")
        bottle = try BottleSlug(slug)
        try FileManager.default.createDirectory(
            atPath: configRoot.string + "/" + slug, withIntermediateDirectories: true)
        routesPath = configRoot.string + "/\(slug)/routes.json"
        loadedPath = root + "/loaded.json"
        pidPath = root + "/proxy.pid"
        argvLog = root + "/argv.jsonl"
        try AtomicFile.write(Data(routes.utf8), to: FilePath(routesPath))
        try QueueRoot(queueRoot).queue(for: bottle).prepare()
        proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: ApplyFixtures.path("reloadable_proxy.py"))
        proxy.arguments = [routesPath, loadedPath, pidPath]
        try proxy.run()
        let pidPath = self.pidPath
        guard await ApplyFixtures.eventually({ FileManager.default.fileExists(atPath: pidPath) }) else {
            throw CocoaError(.fileNoSuchFile)
        }
    }

    deinit {
        proxy.terminate()
        proxy.waitUntilExit()
        try? FileManager.default.removeItem(atPath: root)
    }

    var queue: BottleQueue { QueueRoot(queueRoot).queue(for: bottle) }

    /// The reload action: the SIGHUP wrapper with fixed arguments, plus the two substitutions.
    var hupSettings: String {
        """
        [reload.routes]
        command = ["\(ApplyFixtures.path("send_hup.py"))", "\(pidPath)", "\(loadedPath)", "\(argvLog)", "{slug}", "{file}"]
        timeout = 10
        """
    }

    var failingSettings: String {
        """
        [reload.routes]
        command = ["\(ApplyFixtures.path("failing_reload.py"))", "\(argvLog)", "{slug}", "{file}"]
        """
    }

    func configure(_ settings: String) throws {
        try AtomicFile.write(Data(settings.utf8), to: FilePath(configRoot.string + "/\(bottle)/supervise.toml"))
    }

    /// What the fixture process has loaded now.
    func loaded() throws -> (generation: Int, routes: String, error: String?) {
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: loadedPath))) as! [String: Any]
        let routes = try JSONSerialization.data(withJSONObject: object["routes"] ?? NSNull(), options: [.sortedKeys])
        return (object["generation"] as! Int, String(decoding: routes, as: UTF8.self), object["error"] as? String)
    }

    /// `text` as the fixture would report it after loading it.
    static func canonical(_ text: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Every argv the reload wrappers were started with.
    func recordedArgv() throws -> [[String]] {
        guard let text = try? String(contentsOfFile: argvLog, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["argv"] as! [String]
        }
    }

    /// Submits a proposal made against the current routes.
    func propose(_ routes: String, justification: String = "need the second API") throws -> Proposal {
        let current = try AtomicFile.read(FilePath(routesPath)).map { SHA256Hex.of($0) }
        let proposal = Proposal(
            bottle: bottle, tool: .credProxyBlock, proposedFile: routes, justification: justification,
            currentFileSHA256: current)
        _ = try queue.submit(proposal)
        return proposal
    }

    /// Runs the `bottle-supervise` binary against this host.
    func cli(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.run(
            [ApplyFixtures.binary] + arguments + ["--queue-root", queueRoot.string, "--config-root", configRoot.string])
    }
}
