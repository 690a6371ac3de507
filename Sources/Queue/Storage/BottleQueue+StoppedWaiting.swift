import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// "The agent stopped waiting at T": the fact the operator needs once a
/// proposal outlives the call that made it (a client timeout, a dropped
/// connection, `notifications/cancelled`, a bounded hold that returned
/// `pending`).
///
/// It is the file `<id>.stopped-waiting`, empty, whose modification time is
/// T. Only its presence and its mtime mean anything, so the host never opens
/// it: the queue directory is written from the agent's network, and a file
/// there could be a FIFO, a symlink to `/dev/zero` or 1 GiB of noise. The
/// host looks at it with one `lstat` (no symlink followed) and believes it
/// only when it is a regular file. Old readers ignore the name (they match
/// only `.proposal.json`, `.decision.json` and `.waiting`), so the queue
/// format keeps version 1: an old console shows such a proposal as
/// "pending; the agent is not connected", which is true.
extension BottleQueue {
    /// Records that no call waits on `id` any more, as of now.
    ///
    /// Not fsynced, like the waiting marker: it describes a connection, and
    /// losing it in a crash loses a time stamp, never a proposal or a
    /// decision. An existing marker is replaced so T is the latest stop.
    public func markStoppedWaiting(_ id: ProposalID) throws(QueueError) {
        let path = QueueLayout.stoppedWaiting(id, in: directory)
        unlink(path.string)
        let fd = open(path.string, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 {
            // Another call of this sidecar recorded the same stop meanwhile: the same fact.
            if errno == EEXIST { return }
            throw .io(operation: "create", path: path.string, errno: errno)
        }
        close(fd)
    }

    /// Removes the marker: a call is attached again, or the proposal is finished.
    public func clearStoppedWaiting(_ id: ProposalID) {
        unlink(QueueLayout.stoppedWaiting(id, in: directory).string)
    }

    /// When the agent stopped waiting on `id`, or `nil` when no marker is
    /// there (a call is attached, none ever stopped, or the proposal was
    /// archived).
    ///
    /// A no-follow `lstat` of the name; anything but a regular file is not
    /// believed (and never opened).
    public func stoppedWaitingTime(_ id: ProposalID) -> Date? {
        Self.stoppedWaitingTime(at: QueueLayout.stoppedWaiting(id, in: directory))
    }

    static func stoppedWaitingTime(at path: FilePath) -> Date? {
        var info = stat()
        guard fstatat(AT_FDCWD, path.string, &info, AT_SYMLINK_NOFOLLOW) == 0,
            (info.st_mode & S_IFMT) == S_IFREG
        else { return nil }
        #if canImport(Darwin)
            let time = info.st_mtimespec
        #else
            let time = info.st_mtim
        #endif
        return Timestamp.normalized(
            Date(timeIntervalSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000))
    }
}
