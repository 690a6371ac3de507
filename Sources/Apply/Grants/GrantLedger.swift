import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The host's record of time-boxed grants: `<queue-root>/grants.json`, beside
/// the audit log.
///
/// Host-only by place: the queue root is the host's (a sidecar sees only its
/// own bottle's directory), so no agent can add, lengthen or hide a grant.
/// It is still read through the guarded open (no symbolic link, no FIFO, a
/// regular file of at most 16 MiB) and checked field by field, since it is a
/// file an operator may edit; a ledger that cannot be read stops grant
/// commands with the reason rather than being taken as empty — an empty
/// ledger would silently make every grant permanent.
///
/// Every change is read–modify–write under an exclusive `flock` on
/// `<queue-root>/grants.lock`, written atomically (``AtomicFile``). Callers
/// that also change a bottle's config take the bottle's lock first, then
/// this one, always in that order.
public struct GrantLedger: Sendable {
    /// The ledger file.
    public let path: FilePath
    /// Its lock file.
    let lockPath: FilePath

    /// The largest ledger read.
    public static let maximumSize = 16 << 20
    /// Ended grants kept for `grants --all`; the oldest beyond this are dropped.
    public static let keptEnded = 1_000

    /// The ledger of the queue root at `queueRoot`.
    public init(queueRoot: FilePath) {
        path = queueRoot.appending("grants.json")
        lockPath = queueRoot.appending("grants.lock")
    }

    /// The file's shape.
    struct Contents: Codable {
        var format: Int
        var grants: [Grant]
    }

    /// Every grant, live and ended, oldest first. An absent ledger is empty.
    /// - Throws: ``FileAccessError`` when it is not a regular file or too
    ///   large; ``QueueError`` when its content is malformed.
    public func grants() throws -> [Grant] {
        guard let data = try AtomicFile.read(path, limit: Self.maximumSize, regularOnly: true) else { return [] }
        let contents = try QueueFormat.decode(Contents.self, from: data, path: path.string)
        guard contents.format == 1 else {
            throw QueueError.malformedFile(
                path: path.string, reason: "format \(contents.format) is not 1; a newer host wrote it")
        }
        for grant in contents.grants {
            if let problem = grant.shapeProblem() { throw QueueError.malformedFile(path: path.string, reason: problem) }
        }
        return contents.grants
    }

    /// The live grants.
    public func live() throws -> [Grant] { try grants().filter(\.isLive) }

    /// Reads, changes and writes the ledger under its lock.
    @discardableResult
    public func update<Result>(_ change: (inout [Grant]) throws -> Result) throws -> Result {
        let lock = try lockFile()
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        var grants = try self.grants()
        let before = grants
        let result = try change(&grants)
        guard grants != before else { return result }
        let ended = grants.filter { !$0.isLive }
        if ended.count > Self.keptEnded {
            let dropped = Set(ended.prefix(ended.count - Self.keptEnded).map(\.id))
            grants.removeAll { !$0.isLive && dropped.contains($0.id) }
        }
        let data = try QueueFormat.encode(Contents(format: 1, grants: grants))
        try AtomicFile.write(data, to: path, mode: 0o600)
        return result
    }

    private func lockFile() throws(FileAccessError) -> Int32 {
        let fd = open(lockPath.string, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: lockPath.string, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegularFile(path: lockPath.string, type: info.st_mode & S_IFMT)
        }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let code = errno
                close(fd)
                throw .io(operation: "lock", path: lockPath.string, errno: code)
            }
        }
        return fd
    }
}
