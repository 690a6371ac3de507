import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which version of a file a reader saw, as its metadata tells it: device,
/// inode, size, and the modification and change times to the nanosecond.
///
/// The listing cache (`ListingCache` in the console) keeps what it derived
/// from a queue file under this identity and reuses it only while a fresh
/// `fstatat` gives the same one, so `list` can skip opening, reading and
/// parsing the ten thousand files that did not change.
///
/// Why that is safe against the sidecar, which writes the queue and may be
/// hostile: every write, truncation, rename onto the name or `utimensat`
/// sets the file's change time (`ctime`) to the kernel's clock, and no
/// system call sets it back (only changing the host's clock would, which a
/// container cannot). A new file in the old one's place is a new inode or
/// a new change time. Stores through a shared mapping set it only at the
/// first store to a clean page, which is why a version to be kept is read
/// pinned (``DirectoryDescriptor/readVersion(_:limit:pinning:)``). What the
/// identity cannot tell apart is two versions written within one tick of
/// the kernel's timestamp clock, so an identity is only worth keeping once
/// it is ``isSettled(at:)``: its change time is older than ``settleTime``
/// before the read began (git's rule for its index, "racily clean" entries).
public struct FileIdentity: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    /// Nanoseconds since 1970 of the last write.
    public let modified: Int64
    /// Nanoseconds since 1970 of the last change of contents or metadata.
    public let changed: Int64

    /// How old a change must be, at the start of a read, before its
    /// identity is trusted to name one version: far more than any file
    /// system's timestamp granularity (a kernel tick; 1 s or 2 s on a few).
    public static let settleTime: Int64 = 2_000_000_000

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    /// The identity in a `stat` result.
    public init(_ info: stat) {
        #if canImport(Darwin)
            let modified = info.st_mtimespec
            let changed = info.st_ctimespec
        #else
            let modified = info.st_mtim
            let changed = info.st_ctim
        #endif
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec),
            changed: Int64(changed.tv_sec) * 1_000_000_000 + Int64(changed.tv_nsec))
    }

    /// The identity of the file at `path`, following links (for the
    /// operator's own config files; queue files go through
    /// ``DirectoryDescriptor/identity(of:)``, which does not follow); `nil` when
    /// nothing readable is there.
    public static func of(path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(info)
    }

    /// Whether the last change is at least ``settleTime`` older than `start`
    /// (nanoseconds since 1970, taken before the file was read): any later
    /// change then gets a later change time, so this identity names exactly
    /// the version that was read.
    public func isSettled(at start: Int64) -> Bool {
        changed <= start - Self.settleTime
    }

    /// The wall clock in nanoseconds since 1970, the scale of ``changed``.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
