import Foundation
import Queue
import SystemPackage

/// Everything the sidecar needs to know about its bottle, resolved from flags
/// and environment by the `serve` command.
public struct SidecarConfiguration: Sendable {
    /// The bottle this sidecar serves.
    public var bottle: BottleSlug
    /// The bottle's queue directory (`/run/supervise/queue` in the container).
    public var queueDirectory: FilePath
    /// The read-only mount of the bottle's current config.
    public var currentConfigDirectory: FilePath
    /// The interval between keep-alives on a held call's event stream.
    public var keepaliveInterval: Duration
    /// How long a proposal may wait for a decision before it expires
    /// (`--expire-after`); `nil`: it waits as long as the operator takes.
    public var expireAfter: Duration?

    /// A configuration; defaults are the container's paths, 15 s keep-alives and no deadline.
    public init(
        bottle: BottleSlug, queueDirectory: FilePath = "/run/supervise/queue",
        currentConfigDirectory: FilePath = "/etc/claude-bottle/current-config",
        keepaliveInterval: Duration = .seconds(15), expireAfter: Duration? = nil
    ) {
        self.bottle = bottle
        self.queueDirectory = queueDirectory
        self.currentConfigDirectory = currentConfigDirectory
        self.keepaliveInterval = keepaliveInterval
        self.expireAfter = expireAfter
    }

    /// The deadline of a proposal queued at `now`, when proposals expire.
    public func deadline(from now: Date) -> Date? {
        guard let expireAfter else { return nil }
        let (seconds, attoseconds) = expireAfter.components
        return now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The current content of `file`, or `nil` when the bottle has none.
    public func currentFile(_ file: ConfigFile) -> String? {
        let path = currentConfigDirectory.appending(file.fileName)
        guard let data = try? AtomicFile.read(path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
