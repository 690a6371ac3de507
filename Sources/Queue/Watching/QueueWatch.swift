import Foundation
import SystemPackage

/// Live changes under a queue root, for the operator's console.
///
/// Watches the root (a new bottle directory appears) and every bottle
/// directory (a proposal arrives, is decided, withdrawn or archived, a
/// caller attaches or leaves), adding a watch as each new bottle appears.
/// The console re-reads only the bottle that changed, so a new proposal is
/// on screen within milliseconds of its rename.
public enum QueueWatch {
    /// Something changed under the queue root.
    public enum Change: Sendable, Equatable {
        /// Files in this bottle's queue changed.
        case bottle(BottleSlug)
        /// Anything may have changed (a new bottle, an overflow, the periodic safety rescan): re-read all.
        case all
    }

    /// The changes under `root`, until the stream's consumer stops iterating.
    /// - Parameter useInotify: `false` forces the polling fallback.
    public static func changes(
        root: FilePath, pollInterval: Duration = .milliseconds(250), useInotify: Bool = true
    ) -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Change.self, bufferingPolicy: .bufferingNewest(1024))
        let queueRoot = QueueRoot(root)
        let box = WatcherBox()
        // With inotify, the safety rescan re-reads every bottle: at thousands of proposals, twice a minute is plenty.
        let watcher = DirectoryWatcher(pollInterval: pollInterval, rescanInterval: .seconds(30), useInotify: useInotify)
        { change in
            switch change {
            case .rescan:
                continuation.yield(.all)
            case .name(let directory, let name):
                if directory == root {
                    // A new bottle directory: watch it before reporting, so nothing in it is missed.
                    if let slug = try? BottleSlug(name) {
                        box.watcher?.watch(queueRoot.queue(for: slug).directory)
                        continuation.yield(.bottle(slug))
                    }
                } else if let slug = try? BottleSlug(directory.lastComponent?.string ?? "") {
                    continuation.yield(.bottle(slug))
                }
            }
        }
        box.watcher = watcher
        try? AtomicFile.makeDirectory(root)
        watcher.watch(root)
        for bottle in (try? queueRoot.bottles()) ?? [] {
            watcher.watch(queueRoot.queue(for: bottle).directory)
        }
        continuation.onTermination = { _ in watcher.stop() }
        return stream
    }

    /// Lets the watcher's handler reach the watcher it belongs to.
    private final class WatcherBox: @unchecked Sendable {
        // Written once, before the first event can arrive from a directory
        // other than the root; read only on the watcher's thread after that.
        var watcher: DirectoryWatcher?
    }
}
