import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// When the host first saw each proposal, kept by the host: what the
/// notifier ages, orders and reminds by, instead of the proposal's
/// `created_at`, which the sidecar writes and may set to any time (a
/// proposal that says it is four hours old must not skip its announcement).
///
/// One empty file per proposal, `<queue root>/.first-seen/<slug>.<id>`, made
/// with an exclusive create by the first host process that sees it; its
/// modification time is the moment. The folder sits beside the bottles'
/// directories, where no sidecar reaches, and is opened without following
/// links all the same. Records older than 30 days are pruned.
public struct HostFirstSeen: Sendable {
    /// `<queue root>/.first-seen`.
    public let directory: String

    public init(queueRoot: FilePath) {
        directory = queueRoot.appending(".first-seen").string
    }

    /// When the host first saw proposal `id`: recorded as `now` if no host
    /// process saw it before. `nil` when no record can be made or read.
    public func record(_ id: ProposalID, of bottle: BottleSlug, now: Date = Date()) -> Date? {
        if mkdir(directory, 0o700) != 0, errno != EEXIST { return nil }
        guard let folder = openFolder() else { return nil }
        defer { close(folder) }
        let name = "\(bottle.rawValue).\(id.rawValue)"
        let fd = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 {
            defer { close(fd) }
            let seconds = now.timeIntervalSince1970
            let stamp = timespec(tv_sec: Int(seconds.rounded(.down)), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
            var times = [stamp, stamp]
            futimens(fd, &times)
            return Date(timeIntervalSince1970: (seconds * 1000).rounded(.down) / 1000)
        }
        guard errno == EEXIST else { return nil }
        return time(of: name, in: folder)
    }

    /// When the host first saw proposal `id`, if a host process has.
    public func lookup(_ id: ProposalID, of bottle: BottleSlug) -> Date? {
        guard let folder = openFolder() else { return nil }
        defer { close(folder) }
        return time(of: "\(bottle.rawValue).\(id.rawValue)", in: folder)
    }

    /// Removes records older than `age`.
    public func prune(olderThan age: TimeInterval = 30 * 86400, now: Date = Date()) {
        Self.removeRegularFiles(in: directory, olderThan: age, now: now)
    }

    /// Removes the regular files in `directory` last modified more than `age`
    /// ago (links and anything else are left): how the host's marker folders
    /// (`.first-seen`, `.notified`) forget old proposals.
    public static func removeRegularFiles(in directory: String, olderThan age: TimeInterval, now: Date) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            var info = stat()
            let path = directory + "/" + name
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                now.timeIntervalSince1970 - Double(info.st_mtim.tv_sec) > age
            else { continue }
            unlink(path)
        }
    }

    private func openFolder() -> Int32? {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    private func time(of name: String, in folder: Int32) -> Date? {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return nil
        }
        let milliseconds = (Double(info.st_mtim.tv_sec) * 1000 + Double(info.st_mtim.tv_nsec / 1_000_000))
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }
}
