import FileAccess
import Foundation
import Queue
import SystemPackage

@testable import Apply

/// A throwaway host: a queue root and a config root in one temp directory.
final class ApplyBed: Sendable {
    let root: FilePath
    let queueRoot: FilePath
    let configRoot: FilePath
    let bottle: BottleSlug

    init(bottle: String = "demo") throws {
        root = FilePath(NSTemporaryDirectory()).appending("apply-\(UUID().uuidString.prefix(8))")
        queueRoot = root.appending("queue")
        configRoot = root.appending("bottles")
        self.bottle = try BottleSlug(bottle)
        try AtomicFile.makeDirectory(configRoot.appending(bottle))
        try queue.prepare()
    }

    deinit { try? FileManager.default.removeItem(atPath: root.string) }

    var queue: BottleQueue { QueueRoot(queueRoot).queue(for: bottle) }
    var config: ConfigRoot { ConfigRoot(configRoot) }

    /// An applier whose reload actions come from `settings` (a supervise.toml text), if given.
    func applier(settings: String? = nil) throws -> Applier {
        if let settings { try write(settings, to: "supervise.toml") }
        return Applier(
            configRoot: configRoot, queueRoot: queueRoot, engine: ContainerEngine("false"), operatorName: "alice")
    }

    /// Writes a file into the bottle's config directory.
    func write(_ text: String, to name: String) throws {
        try AtomicFile.write(Data(text.utf8), to: configRoot.appending(bottle.rawValue).appending(name))
    }

    /// The bottle's current `file`.
    func current(_ file: ConfigFile) throws -> String? {
        try config.current(file, for: bottle)
    }

    /// Submits a proposal made against the bottle's current file.
    func propose(_ text: String, tool: Tool = .credProxyBlock, justification: String = "need it") async throws
        -> Proposal
    {
        let proposal = Proposal(
            bottle: bottle, tool: tool, proposedFile: text, justification: justification,
            currentFileSHA256: try config.currentSHA256(tool.configFile, for: bottle))
        _ = try await queue.submit(proposal)
        return proposal
    }

    static let routesV1 = #"{"routes": [{"host": "api.one.example"}]}"# + "\n"
    static let routesV2 = #"{"routes": [{"host": "api.one.example"}, {"host": "api.two.example"}]}"# + "\n"
}
