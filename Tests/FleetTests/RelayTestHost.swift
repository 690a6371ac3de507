import Apply
import Fleet
import Foundation
import Logging
import Queue
import SystemPackage

/// One host for the relay's tests: a queue and a config root in a scratch
/// directory with the bottle `web` (an allowlist, reloaded with `true`), an
/// applier and audit log on them, and a relay configuration for host `a`
/// whose heartbeat comes every 300 ms, so a test waits on the heartbeat's
/// work within its deadline.
struct RelayTestHost {
    let scratch: String
    let queueRoot: FilePath
    let configRoot: FilePath
    let bottle: BottleSlug
    let queue: BottleQueue
    let applier: Applier
    let log: AuditLog
    let host: FleetHostName
    let logger: Logger

    init(_ name: String) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        queueRoot = FilePath("\(scratch)/queue")
        configRoot = FilePath("\(scratch)/bottles")
        bottle = try BottleSlug("web")
        try FileManager.default.createDirectory(atPath: "\(scratch)/queue/web", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(scratch)/bottles/web", withIntermediateDirectories: true)
        try Data("api.github.com\n".utf8).write(to: URL(fileURLWithPath: "\(scratch)/bottles/web/allowlist"))
        try Data("[reload.allowlist]\ncommand = [\"true\"]\n".utf8).write(
            to: URL(fileURLWithPath: "\(scratch)/bottles/web/supervise.toml"))
        queue = QueueRoot(queueRoot).queue(for: bottle)
        logger = Logger(label: name)
        applier = Applier(configRoot: configRoot, queueRoot: queueRoot, engine: ContainerEngine("true"), logger: logger)
        log = AuditLog(queueRoot: queueRoot)
        host = try FleetHostName("a")
    }

    /// An allowlist proposal adding `name`, against the bottle's current file.
    func proposal(_ name: String) -> Proposal {
        Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\n\(name)\n", justification: "needs \(name)",
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
    }

    /// This host's relay on `database`, heartbeat every 300 ms.
    func relay(on database: FleetTestDatabase) throws -> Relay {
        var configuration = Relay.Configuration(
            database: try database.settings(), host: host, queueRoot: queueRoot, configRoot: configRoot,
            engine: ContainerEngine("true"))
        configuration.heartbeat = .milliseconds(300)
        return Relay(configuration: configuration, logger: logger, announce: { _ in })
    }

    func removeScratch() { try? FileManager.default.removeItem(atPath: scratch) }
}
