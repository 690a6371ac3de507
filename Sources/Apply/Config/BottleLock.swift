import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on one bottle's config, held from the conflict check
/// to the end of the reload.
///
/// Two operators applying different proposals for the same bottle, or an
/// apply racing a rollback, take turns instead of interleaving their writes
/// and reloads. Recovery uses it too: an apply whose lock is still held is
/// running, not interrupted. The lock is `flock` on
/// `<config-root>/<slug>/.apply.lock`, released by the kernel if the process dies.
final class BottleLock: Sendable {
    private let fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Takes the lock, waiting for another holder to finish (off the cooperative pool).
    static func acquire(_ directory: FilePath) async throws(FileAccessError) -> BottleLock {
        let path = directory.appending(".apply.lock")
        try AtomicFile.makeDirectory(directory)
        let fd = open(path.string, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: path.string, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return BottleLock(fd: fd) }
        let code: Int32 = await BlockingWork.run("bottle lock") {
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { return errno }
            }
            return 0
        }
        guard code == 0 else {
            close(fd)
            throw .io(operation: "lock", path: path.string, errno: code)
        }
        return BottleLock(fd: fd)
    }

    /// Takes the lock only if nobody holds it.
    static func tryAcquire(_ directory: FilePath) -> BottleLock? {
        let path = directory.appending(".apply.lock")
        let fd = open(path.string, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            // No lock file: no apply ever ran there, so none is running.
            return nil
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return BottleLock(fd: fd)
    }

    /// Whether some process holds the lock of `directory` now.
    static func isHeld(_ directory: FilePath) -> Bool {
        let path = directory.appending(".apply.lock")
        let fd = open(path.string, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }
}
