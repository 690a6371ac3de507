import Foundation
import SystemPackage

/// Live changes under a queue root, for the operator's console.
///
/// Watches the root (a new bottle directory appears) and every bottle
/// directory (a proposal arrives, is decided, withdrawn or archived, a
/// caller attaches or leaves), adding a watch as each new bottle appears.
/// A change to one proposal's files is named as such (``Change/entry(_:_:)``),
/// so the console re-reads that one file, not the bottle, and a new proposal
/// is on screen within milliseconds of its rename.
public enum QueueWatch {
    /// Something changed under the queue root.
    public enum Change: Sendable, Equatable {
        /// One proposal's files in this bottle changed: its proposal, its
        /// decision, its waiting or stopped-waiting marker appeared, moved or
        /// went away.
        case entry(BottleSlug, ProposalID)
        /// Files in this bottle's queue changed (a name that is no proposal's).
        case bottle(BottleSlug)
        /// Anything may have changed (a new bottle, an overflow, the periodic safety rescan): re-read all.
        case all

        /// The bottle the change is confined to; `nil` for ``all``.
        public var bottle: BottleSlug? {
            switch self {
            case .entry(let bottle, _), .bottle(let bottle): bottle
            case .all: nil
            }
        }
    }

    /// What a name appearing in or leaving a bottle's directory means: one
    /// proposal's file, nothing (a writer's temp file, whose rename is the
    /// news; the archive directory itself), or anything in the bottle.
    public static func change(named name: String, in bottle: BottleSlug) -> Change? {
        if name.hasPrefix(".") || name == QueueLayout.archiveName { return nil }
        for suffix in [
            QueueLayout.proposalSuffix, QueueLayout.decisionSuffix, QueueLayout.waitingSuffix,
            QueueLayout.stoppedWaitingSuffix,
        ] {
            if let id = QueueLayout.id(in: name, suffix: suffix) { return .entry(bottle, id) }
        }
        return .bottle(bottle)
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
                } else if let slug = try? BottleSlug(directory.lastComponent?.string ?? ""),
                    let named = QueueWatch.change(named: name, in: slug)
                {
                    continuation.yield(named)
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
