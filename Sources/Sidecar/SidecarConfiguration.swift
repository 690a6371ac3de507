import FileAccess
import FoundationEssentials
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
    /// How long one call is held before it is answered `pending`
    /// (`--hold-limit`, default 50 s: under the common 60 s client timeout);
    /// `nil`: held until decided, the seed's behaviour.
    public var holdLimit: Duration?

    /// The default hold limit: under the 60 s total timeout of the
    /// TypeScript SDK, Codex CLI and LibreChat, with room for a slow network.
    public static let defaultHoldLimit: Duration = .seconds(50)

    /// A configuration; defaults are the container's paths, 15 s keep-alives,
    /// no deadline and a 50 s hold limit.
    public init(
        bottle: BottleSlug, queueDirectory: FilePath = "/run/supervise/queue",
        currentConfigDirectory: FilePath = "/etc/claude-bottle/current-config",
        keepaliveInterval: Duration = .seconds(15), expireAfter: Duration? = nil,
        holdLimit: Duration? = defaultHoldLimit
    ) {
        self.holdLimit = holdLimit
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
