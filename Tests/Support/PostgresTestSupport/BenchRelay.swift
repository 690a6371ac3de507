import Foundation

/// A host for the fleet benchmarks: a queue and a config root with one bottle, `web`, and its relay
/// running against the fleet database. `bench/fleet-relay` starts two of them, `bench/fleet-scale` one
/// more at rest; both measure from the moment the relay says it has caught up.
public enum BenchRelay {
    /// Lays out `root` (queue/web, bottles/web with an allowlist and `bottleSettings` as its
    /// supervise.toml when given, an empty host settings file), starts `binary relay` on `database` as
    /// host `hostName` with its log in `root/relay.log`, and returns once the log says "caught up".
    /// - Throws: when the relay exits or has not caught up within 60 s (the log's text says why).
    public static func start(
        binary: String, database: String, hostName: String, root: String, bottleSettings: String? = nil
    ) async throws -> Process {
        let files = FileManager.default
        try files.createDirectory(atPath: "\(root)/queue/web", withIntermediateDirectories: true)
        try files.createDirectory(atPath: "\(root)/bottles/web", withIntermediateDirectories: true)
        try Data("api.github.com\n".utf8).write(to: URL(fileURLWithPath: "\(root)/bottles/web/allowlist"))
        if let bottleSettings {
            try Data(bottleSettings.utf8).write(to: URL(fileURLWithPath: "\(root)/bottles/web/supervise.toml"))
        }
        try Data("# no channels, no rules\n".utf8).write(to: URL(fileURLWithPath: "\(root)/host.toml"))
        let log = "\(root)/relay.log"
        _ = files.createFile(atPath: log, contents: nil)
        let relay = Process()
        relay.executableURL = URL(fileURLWithPath: binary)
        relay.arguments = ["relay", "--database", database, "--host-name", hostName]
        relay.environment = ProcessInfo.processInfo.environment.merging([
            "SUPERVISE_QUEUE_ROOT": "\(root)/queue", "SUPERVISE_CONFIG_ROOT": "\(root)/bottles",
            "SUPERVISE_SETTINGS": "\(root)/host.toml",
        ]) { $1 }
        relay.standardError = FileHandle(forWritingAtPath: log)
        try relay.run()
        let deadline = Date().addingTimeInterval(60)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("caught up") {
            guard Date() < deadline, relay.isRunning else {
                if relay.isRunning { relay.terminate() }
                throw PostgresServerError(
                    "relay \(hostName) did not catch up: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return relay
    }
}
