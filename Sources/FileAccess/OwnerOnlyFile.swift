#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one reader of a secret kept in a file only its owner may read: the
/// web console's access token, a notification token or webhook, the fleet
/// database's password, the host's decision key.
///
/// A secret file is trusted only if nobody else could have read or replaced
/// it, so before one byte is read the file must be, as `fstat` of the open
/// file (not of the name, which could change in between) says:
/// - not a symbolic link (`O_NOFOLLOW`): a link would let whoever can write
///   its directory point the reader at a file of their choosing;
/// - a regular file: a FIFO is opened `O_NONBLOCK`, so it never blocks the
///   reader, and is refused like a device or a directory;
/// - owned by the expected user, with no group or other permission bits
///   (`mode & 0o077 == 0`): a secret others could read is already leaked;
/// - its only name (`st_nlink == 1`): a second name, made in a directory
///   somebody else controls, would let them point this path at another
///   owner-only file of the operator's (which a notification would then send);
/// - below directories only its owner or root can change, each checked
///   as the walk to the file opens it (``TrustedDirectories``), for the
///   same reason;
/// - at most `maxBytes` long, and the read stops there whatever the file
///   claims (it could grow while being read).
///
/// Each refusal is a ``FileAccessError`` case of its own, whose message
/// says what to fix ("run: chmod 600 PATH"); callers that have always
/// worded a refusal their own way (tests and users rely on those words)
/// switch over the case.
public enum OwnerOnlyFile {
    /// The bytes of the owner-only file at `path`, or `nil` when nothing is there.
    /// - Parameters:
    ///   - maxBytes: the largest file accepted.
    ///   - owner: the uid the file must belong to: the effective user by
    ///     default (the one whose permissions the process uses).
    /// - Throws: ``FileAccessError``: `.symbolicLink`, `.notRegularFile`,
    ///   `.foreignOwner`, `.readableByOthers`, `.hardLinked`,
    ///   `.untrustedDirectory`, `.tooLarge`, or `.io`.
    public static func read(_ path: String, maxBytes: Int, owner: uid_t = geteuid()) throws(FileAccessError)
        -> [UInt8]?
    {
        // Every directory on the way is checked first, and the file opened relative to the last one.
        guard let fd = try TrustedDirectories.open(path, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, owner: owner) else {
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .notRegularFile(path: path, type: info.st_mode & S_IFMT)
        }
        guard info.st_uid == owner else {
            throw .foreignOwner(path: path, owner: UInt32(info.st_uid), expected: UInt32(owner))
        }
        guard info.st_mode & 0o077 == 0 else { throw .readableByOthers(path: path, mode: info.st_mode & 0o7777) }
        guard info.st_nlink == 1 else { throw .hardLinked(path: path, links: UInt64(info.st_nlink)) }
        guard Int(info.st_size) <= maxBytes else {
            throw .tooLarge(path: path, size: Int64(info.st_size), limit: maxBytes)
        }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if got == 0 { break }
            count += got
        }
        guard count <= maxBytes else { throw .tooLarge(path: path, size: nil, limit: maxBytes) }
        return Array(bytes.prefix(count))
    }
}
