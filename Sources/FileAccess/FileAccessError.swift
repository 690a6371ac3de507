#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the file layer would not read, write or open a file, each case worded
/// so the message says what to fix.
///
/// The cases are facts about the file (a link, a FIFO, too large, another
/// owner, a mode others can read), not verdicts about what it should have
/// held, so each caller can keep its own wording: the queue turns a refused
/// file into "malformed queue file …" (`QueueError`), the web console's
/// access token and the notification secrets name the file by its role.
/// A path is printed through ``Escaped``: a name in a bottle's queue
/// directory is chosen by the sidecar.
public enum FileAccessError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operating system refused `operation` ("open", "rename to", …) on `path`.
    case io(operation: String, path: String, errno: Int32)
    /// `path` is a symbolic link where a file (or, with `directory`, a
    /// directory) is read: it is refused, never followed.
    case symbolicLink(path: String, directory: Bool)
    /// `path` is a FIFO, device, socket or directory (`type` as in
    /// `st_mode & S_IFMT`), opened without blocking and refused before a read.
    case notRegularFile(path: String, type: mode_t)
    /// `path` holds more than `limit` bytes (`size`, when `fstat` said so
    /// before reading; `nil` when it grew past the limit while being read).
    case tooLarge(path: String, size: Int64?, limit: Int)
    /// An owner-only file (``OwnerOnlyFile``) that belongs to `owner`, not to `expected`.
    case foreignOwner(path: String, owner: UInt32, expected: UInt32)
    /// An owner-only file whose `mode` lets its group or others read or write it.
    case readableByOthers(path: String, mode: mode_t)
    /// An owner-only file with `links` names (hard links): whoever made the
    /// other name chose which file this name reads.
    case hardLinked(path: String, links: UInt64)
    /// An owner-only file below `directory`, which belongs to `owner` (not
    /// root, not the file's expected owner) or which its group or others may
    /// write (`mode`, not sticky): they could replace what the path leads to.
    case untrustedDirectory(path: String, directory: String, owner: UInt32, mode: mode_t)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .io(_, let path, _), .symbolicLink(let path, _), .notRegularFile(let path, _), .tooLarge(let path, _, _),
            .foreignOwner(let path, _, _), .readableByOthers(let path, _), .hardLinked(let path, _),
            .untrustedDirectory(let path, _, _, _):
            path
        }
    }

    /// What is wrong with the file, without its path: for callers that word
    /// the path their own way (the queue's "malformed queue file PATH: REASON").
    public var reason: String {
        switch self {
        case .io(let operation, _, let code):
            "\(operation): \(Self.text(ofErrno: code))"
        case .symbolicLink(_, directory: false):
            "a symbolic link, not a regular file; not followed"
        case .symbolicLink(_, directory: true):
            "a symbolic link, not a real directory; not entered"
        case .notRegularFile(_, let type):
            "\(Self.kind(type)), not a regular file; not read"
        case .tooLarge(_, let size?, let limit):
            "\(size) bytes; the limit is \(limit); not read"
        case .tooLarge(_, nil, let limit):
            "larger than \(limit) bytes; not read"
        case .foreignOwner(let path, let owner, let expected):
            "belongs to uid \(owner), not to you (uid \(expected)); run as its owner, or: "
                + "chown \(expected) \(ShellWord(path))"
        case .readableByOthers(let path, let mode):
            "is mode \(String(mode & 0o777, radix: 8)), so others can read it; run: chmod 600 \(ShellWord(path))"
        case .hardLinked(let path, let links):
            "has \(links) names (hard links), so another name decides what is read here; keep one name: "
                + "cp \(ShellWord(path)) \(ShellWord(path + ".new")) && mv \(ShellWord(path + ".new")) \(ShellWord(path))"
        case .untrustedDirectory(_, let directory, let owner, let mode) where TrustedDirectories.othersCanReplaceEntries(mode: mode):
            "is below \(Escaped(directory)), mode \(String(mode & 0o777, radix: 8)), which others can write, "
                + "so they could replace it; run: chmod go-w \(ShellWord(directory))"
                + (owner == 0 ? "" : " (it belongs to uid \(owner); keep secrets in a directory of yours or root's)")
        case .untrustedDirectory(_, let directory, let owner, _):
            "is below \(Escaped(directory)), which belongs to uid \(owner), who could replace it; "
                + "keep secrets in a directory of yours or root's"
        }
    }

    public var description: String {
        switch self {
        case .io(let operation, let path, let code):
            "\(operation) \(Escaped(path)): \(Self.text(ofErrno: code))"
        default:
            "\(Escaped(path)): \(reason)"
        }
    }

    /// The operating system's text for an `errno` value.
    public static func text(ofErrno code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Names the file type in `mode` for a message ("a FIFO", "a directory", …).
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFDIR: "a directory"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        case S_IFREG: "a regular file"
        default: "a special file"
        }
    }
}
