import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The policy as it is on disk now: host.toml and the remembered rules,
/// read again whenever either file changes (its inode, size or change time),
/// so an operator's edit takes effect at the next proposal without a restart
/// — and an edit that breaks the file stops every rule at once (fail closed).
public final class PolicySource: @unchecked Sendable {
    /// The host settings file.
    public let settings: FilePath
    /// The two files' paths as the kernel takes them, worked out once: this
    /// runs on every queue change, and building a `FilePath` (its separator
    /// normalisation) was a tenth of a rule runner's CPU time in the
    /// rule-latency benchmark (docs/performance.md).
    private let stamped: [String]
    private let lock = NSLock()
    private var stamp: [Int64] = []
    private var loaded: Result<HostPolicy, PolicyProblem> = .success(HostPolicy())

    /// A source over the settings file `settings` (and the remembered rules beside it).
    public init(settings: FilePath) {
        self.settings = settings
        self.stamped = [settings.string, RememberedRules.path(besides: settings).string]
    }

    /// The policy now; a failure when either file cannot be read or parsed.
    public func current() -> Result<HostPolicy, PolicyProblem> {
        let now = stamped.flatMap(Self.stamp)
        lock.lock()
        defer { lock.unlock() }
        if now != stamp || stamp.isEmpty {
            loaded = Result { () throws(PolicyProblem) in try HostPolicy.load(settings: settings) }
            stamp = now
        }
        return loaded
    }

    /// What identifies a file's version without reading it: device, inode, size, change time
    /// (also for the readers of other tables of the settings file that follow it the same way).
    public static func stamp(_ path: String) -> [Int64] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [-1, Int64(errno), 0, 0, 0] }
        return [
            Int64(bitPattern: UInt64(info.st_dev)), Int64(bitPattern: UInt64(info.st_ino)), Int64(info.st_size),
            Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec),
        ]
    }
}
