import Foundation
import Queue

#if canImport(Glibc)
    import Glibc
#endif

/// "This proposal was announced", shared by every host process that watches
/// the queue (the console, `notify`, the web console), so the operator is
/// told once however many of them run.
///
/// A marker is an empty file `<queue root>/.notified/<slug>.<id>` taken with
/// an exclusive create: the first process to create it sends, the others
/// see `EEXIST`. The folder sits beside the bottles' queue directories, not
/// in one, so no sidecar can reach it; it is opened without following links
/// all the same. Markers older than 30 days are removed when a watcher starts.
struct NotificationMarker: Sendable {
    let directory: String

    /// Markers in `<queueRoot>/<folder>`: `.notified` for announcements,
    /// `.policy-decided` for the standing rules' decisions (``PolicyRunner``).
    init(queueRoot: String, folder: String = ".notified") {
        directory = queueRoot + "/" + folder
    }

    enum Claim: Equatable {
        /// This process announces the proposal.
        case claimed
        /// Another process (or an earlier run) did.
        case taken
        /// No marker could be made (`reason`); announce anyway: twice is better than never.
        case unavailable(String)
    }

    /// Takes the marker for `proposal`.
    /// - Parameter suffix: which announcement (`""` the first, `.reminder` the reminder).
    func claim(_ id: ProposalID, of bottle: BottleSlug, suffix: String = "") -> Claim {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            return .unavailable("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else {
            return .unavailable("\(directory) is not a directory: \(String(cString: strerror(errno)))")
        }
        defer { close(folder) }
        let fd = openat(folder, "\(bottle.rawValue).\(id.rawValue)\(suffix)", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return .claimed
        }
        return errno == EEXIST ? .taken : .unavailable(String(cString: strerror(errno)))
    }

    /// Removes markers older than `age`.
    func prune(olderThan age: TimeInterval = 30 * 86400, now: Date = Date()) {
        HostFirstSeen.removeRegularFiles(in: directory, olderThan: age, now: now)
    }
}
