import FoundationEssentials
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which queue directory `serve` uses, and whether it can work there —
/// decided before the sidecar accepts a single call.
///
/// In a deployment the directory is a bind mount of the host's
/// `~/.claude-bottle/queue/<slug>/`, written by the sidecar's non-root user
/// (uid 10001 in the image) and read by the operator's tools on the host.
/// When the ownership is wrong, the first agent's call would fail deep in a
/// write; when the mount is missing, the proposals would go into the
/// container's own file system, where no operator ever sees them, and the
/// agent would wait for a decision that cannot come. Both are found at
/// start instead, with a message that names the directory, the user the
/// sidecar runs as, and the command that fixes it (docs/deployment.md).
///
/// The sidecar never creates its queue directory: on a host, a typo in
/// `--queue-dir` would otherwise start a sidecar nobody watches; and
/// `/run/supervise/queue`, the default, is only used where it exists (the
/// image creates it as the mount point, owned by root, so that forgetting
/// the mount fails here too).
public enum QueueDirectoryCheck {
    /// The queue directory inside the container image, the default when
    /// neither `--queue-dir` nor `SUPERVISE_QUEUE_DIR` is given.
    public static let containerDefault = FilePath("/run/supervise/queue")

    /// Why the sidecar cannot use a queue directory.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// No directory was given and the container's default does not exist here (a usage error).
        case noDirectoryGiven
        /// The directory does not exist.
        case missing(FilePath)
        /// Something other than a directory is there.
        case notADirectory(FilePath)
        /// A file cannot be created there by this process.
        case notWritable(FilePath, reason: String, owner: uid_t, group: gid_t, mode: mode_t, user: uid_t, userGroup: gid_t)

        /// Whether this is the caller's mistake in how `serve` was invoked
        /// (exit 2) rather than a directory that is not usable (exit 1).
        public var isUsageError: Bool { self == .noDirectoryGiven }

        public var description: String {
            switch self {
            case .noDirectoryGiven:
                return "no queue directory: pass --queue-dir DIR or set SUPERVISE_QUEUE_DIR "
                    + "(the default, \(QueueDirectoryCheck.containerDefault), exists only in the container image)"
            case .missing(let path):
                return "the queue directory \(path) does not exist: create it on the host "
                    + "(e.g. ~/.claude-bottle/queue/<slug>) and bind-mount it there, or pass --queue-dir "
                    + "with a directory that exists; the sidecar does not create it (docs/deployment.md)"
            case .notADirectory(let path):
                return "the queue directory \(path) is not a directory"
            case .notWritable(let path, let reason, let owner, let group, let mode, let user, let userGroup):
                var text =
                    "the queue directory \(path) is not writable for this sidecar, which runs as uid \(user) "
                    + "(gid \(userGroup)): \(reason). It belongs to uid \(owner), gid \(group), mode "
                    + Self.octal(mode & 0o7777) + ". "
                if reason.contains("read-only") {
                    text += "Mount it read-write (no :ro): the sidecar writes its proposals there."
                } else {
                    text +=
                        "Give it to the sidecar's user on the host: sudo chown -R \(user):\(userGroup) "
                        + "<the host directory mounted here> (e.g. ~/.claude-bottle/queue/<slug>)."
                }
                if path == QueueDirectoryCheck.containerDefault && owner == 0 {
                    text +=
                        " If nothing is mounted here, bind-mount the host's queue directory: "
                        + "-v ~/.claude-bottle/queue/<slug>:\(QueueDirectoryCheck.containerDefault)."
                }
                return text + " See docs/deployment.md."
            }
        }

        /// A file mode in octal, four digits (`0755`), as `ls` and `chmod` write it.
        static func octal(_ mode: mode_t) -> String {
            let digits = String(mode, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// The directory `serve` uses: the one given (flag, else variable),
    /// else the container default when it exists.
    public static func resolve(given: String?) throws(Problem) -> FilePath {
        if let given, !given.isEmpty { return FilePath(given) }
        var info = stat()
        guard stat(containerDefault.string, &info) == 0 else { throw .noDirectoryGiven }
        return containerDefault
    }

    /// Checks that `directory` is a directory this process can create
    /// files in, and so is its `archive/` when it exists (the sidecar
    /// moves answered proposals there).
    ///
    /// The check creates and removes a temp file (named as the queue's
    /// temp files are, so a crash in between leaves nothing the next start
    /// does not clean): permission bits, ACLs, a read-only mount, SELinux
    /// labels and user-namespace mappings all answer the same question that
    /// way, where `access(2)` would miss some of them.
    public static func check(_ directory: FilePath) throws(Problem) {
        try checkOne(directory)
        let archive = directory.appending("archive")
        var info = stat()
        if lstat(archive.string, &info) == 0 { try checkOne(archive) }
    }

    private static func checkOne(_ directory: FilePath) throws(Problem) {
        var info = stat()
        guard stat(directory.string, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .missing(directory) }
            throw notWritable(directory, info: nil, errno: errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(directory) }
        var random = SystemRandomNumberGenerator()
        let probe = directory.appending(".write-check.\(String(random.next() & 0xFFFF_FFFF, radix: 16)).tmp")
        let fd = open(probe.string, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw notWritable(directory, info: info, errno: errno) }
        close(fd)
        unlink(probe.string)
    }

    private static func notWritable(_ directory: FilePath, info: stat?, errno code: Int32) -> Problem {
        let reason = code == EROFS ? "it is on a read-only mount" : String(cString: strerror(code)).lowercased()
        return .notWritable(
            directory, reason: reason, owner: info?.st_uid ?? 0, group: info?.st_gid ?? 0, mode: info?.st_mode ?? 0,
            user: geteuid(), userGroup: getegid())
    }
}
