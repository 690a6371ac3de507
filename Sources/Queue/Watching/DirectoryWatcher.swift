import FoundationEssentials
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Tells its owner when names change in a set of directories.
///
/// On Linux this is inotify: one file descriptor, one watch per directory,
/// and a thread that blocks in `poll(2)` and hands each changed name to the
/// owner's handler within microseconds of the rename that caused it. The
/// queue's writers only ever create, rename and unlink names, so watching
/// `IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE` sees every fact
/// change. Inotify works across bind mounts, so a decision written on the
/// host wakes the sidecar inside the bottle.
///
/// Where inotify is missing or refuses (some network and FUSE file systems,
/// exhausted watch limits), the watcher falls back to calling the handler
/// with ``Change/rescan`` every `pollInterval`, and owners re-read what they
/// care about. Owners also get a ``Change/rescan`` when the kernel's event
/// queue overflows, and — as a safety net against anything lost — every
/// `rescanInterval` even with inotify.
public final class DirectoryWatcher: Sendable {
    /// One change seen by the watcher.
    public enum Change: Sendable, Equatable {
        /// `name` was created, renamed into, renamed out of or removed from `directory`.
        case name(directory: FilePath, name: String)
        /// Something may have changed anywhere: re-read everything you watch.
        case rescan
    }

    /// Whether changes come from inotify (`false`: polling).
    public var isEventDriven: Bool { inotifyFD >= 0 }

    private let inotifyFD: Int32
    private let handler: @Sendable (Change) -> Void
    private let pollInterval: Duration
    private let rescanInterval: Duration
    private let state = Mutex(State())

    private struct State {
        var directories: [Int32: FilePath] = [:]
        var stopped = false
    }

    /// A watcher calling `handler` (on its own thread) for every change.
    /// - Parameters:
    ///   - pollInterval: how often to rescan when inotify is unavailable.
    ///   - rescanInterval: how often to rescan even with inotify, as a safety net.
    ///   - useInotify: `false` forces the polling fallback (tests use it).
    public init(
        pollInterval: Duration = .milliseconds(250), rescanInterval: Duration = .seconds(5),
        useInotify: Bool = true, handler: @escaping @Sendable (Change) -> Void
    ) {
        #if os(Linux)
            inotifyFD = useInotify ? inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) : -1
        #else
            inotifyFD = -1
        #endif
        self.handler = handler
        self.pollInterval = pollInterval
        self.rescanInterval = rescanInterval
        NamedThread.start("queue-watcher") { [self] in self.run() }
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
    }

    /// Starts watching `directory` (it must exist). Watching it twice is harmless.
    /// - Returns: `false` when inotify refused it; changes there then come as periodic rescans.
    @discardableResult
    public func watch(_ directory: FilePath) -> Bool {
        #if os(Linux)
            guard inotifyFD >= 0 else { return false }
            // IN_DONT_FOLLOW: a slug directory or archive/ the sidecar replaced with a link is not watched through.
            let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW)
            let descriptor = inotify_add_watch(inotifyFD, directory.string, mask)
            guard descriptor >= 0 else { return false }
            state.withLock { $0.directories[descriptor] = directory }
            return true
        #else
            return false
        #endif
    }

    /// Stops the watcher thread; no handler call starts after this returns.
    public func stop() {
        state.withLock { $0.stopped = true }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func run() {
        var lastRescan = ContinuousClock.now
        let wait = inotifyFD >= 0 ? rescanInterval : pollInterval
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !isStopped {
            if inotifyFD >= 0 {
                var descriptor = pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, Int32(min(wait, .milliseconds(500)).milliseconds)) > 0 {
                    drainEvents(into: &buffer)
                }
            } else {
                NamedThread.sleep(wait)
            }
            if isStopped { return }
            if ContinuousClock.now - lastRescan >= wait {
                lastRescan = .now
                handler(.rescan)
            }
        }
    }

    private func drainEvents(into buffer: inout [UInt8]) {
        #if os(Linux)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
                guard count > 0 else { return }
                var changes: [Change] = []
                buffer.withUnsafeBytes { raw in
                    var offset = 0
                    let headerSize = MemoryLayout<inotify_event>.size
                    while offset + headerSize <= count {
                        let descriptor = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                        let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                        let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                        let nameBytes = raw[(offset + headerSize)..<(offset + headerSize + length)]
                        offset += headerSize + length
                        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                            changes.append(.rescan)
                            continue
                        }
                        guard length > 0, let directory = state.withLock({ $0.directories[descriptor] }) else {
                            continue
                        }
                        let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                        changes.append(.name(directory: directory, name: name))
                    }
                }
                for change in changes { handler(change) }
            }
        #endif
    }
}

extension Duration {
    /// Whole milliseconds, for system calls that take them.
    var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
