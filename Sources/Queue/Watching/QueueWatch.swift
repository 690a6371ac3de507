import FileAccess
import FoundationEssentials
import Synchronization
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
    public enum Change: Sendable, Hashable {
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

    /// How many distinct changes wait for the consumer before they collapse
    /// into one ``Change/all``: a fleet's burst, or a hostile sidecar making
    /// names in a loop, costs at most this much memory and one full re-read.
    public static let pendingLimit = 1024

    /// The changes under `root`, until the stream's consumer stops iterating.
    ///
    /// Changes the consumer has not taken yet are coalesced, never dropped:
    /// a change already waiting is not queued twice, past ``pendingLimit``
    /// distinct ones they become one ``Change/all``, and an ``Change/all``
    /// waiting makes every later change redundant until it is taken. (An
    /// `AsyncStream` buffer would drop the oldest change instead, and the
    /// console would miss a proposal until the next safety rescan.)
    /// - Parameter useInotify: `false` forces the polling fallback.
    public static func changes(
        root: FilePath, pollInterval: Duration = .milliseconds(250), useInotify: Bool = true
    ) -> AsyncStream<Change> {
        let pending = PendingChanges()
        let queueRoot = QueueRoot(root)
        let box = WatcherBox()
        // With inotify, the safety rescan re-reads every bottle: at thousands of proposals, twice a minute is plenty.
        // The handler holds the pending changes weakly: the stream owns them, and they stop the watcher when it goes.
        let watcher = DirectoryWatcher(pollInterval: pollInterval, rescanInterval: .seconds(30), useInotify: useInotify)
        { [weak pending] change in
            guard let pending else { return }
            switch change {
            case .rescan:
                pending.add(.all)
            case .name(let directory, let name):
                if directory == root {
                    // A new bottle directory: watch it before reporting, so nothing in it is missed.
                    if let slug = try? BottleSlug(name) {
                        box.watcher?.watch(queueRoot.queue(for: slug).directory)
                        pending.add(.bottle(slug))
                    }
                } else if let slug = try? BottleSlug(directory.lastComponent?.string ?? ""),
                    let named = QueueWatch.change(named: name, in: slug)
                {
                    pending.add(named)
                }
            }
        }
        box.watcher = watcher
        pending.watcher = watcher
        try? AtomicFile.makeDirectory(root)
        watcher.watch(root)
        for bottle in (try? queueRoot.bottles()) ?? [] {
            watcher.watch(queueRoot.queue(for: bottle).directory)
        }
        return AsyncStream(unfolding: { await pending.next() }, onCancel: { watcher.stop() })
    }

    /// The changes the consumer has not taken yet, coalesced (see
    /// ``changes(root:pollInterval:useInotify:)``), and a wake-up for it.
    ///
    /// The watcher thread adds; the stream's one consumer takes, in order.
    /// When the consumer lets go of the stream, this goes too, and stops the watcher.
    final class PendingChanges: Sendable {
        private struct State {
            var order: [Change] = []
            var waiting: Set<Change> = []
            var all = false
        }

        private let state = Mutex(State())
        /// One element at most: a wake-up, however many changes arrived meanwhile.
        private let wakeUps: AsyncStream<Void>
        private let wakeUp: AsyncStream<Void>.Continuation
        private let iterator: IteratorBox
        private let consumerWaits = Atomic(false)
        /// Stopped when the stream is let go (set once, before any change).
        nonisolated(unsafe) var watcher: DirectoryWatcher?

        init() {
            (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            iterator = IteratorBox(wakeUps.makeAsyncIterator())
        }

        deinit { watcher?.stop() }

        func add(_ change: Change) {
            state.withLock { state in
                guard !state.all else { return }
                if change == .all || state.order.count >= QueueWatch.pendingLimit {
                    state.order = [.all]
                    state.waiting = [.all]
                    state.all = true
                } else if state.waiting.insert(change).inserted {
                    state.order.append(change)
                }
            }
            wakeUp.yield()
        }

        /// Whether the consumer found nothing and waits for the next change
        /// (what a test waits on before adding one, instead of sleeping).
        var consumerIsWaiting: Bool { consumerWaits.load(ordering: .acquiring) }

        /// The oldest change not taken yet, waiting for one if there is none.
        func next() async -> Change? {
            while true {
                let taken: Change? = state.withLock { state in
                    guard !state.order.isEmpty else { return nil }
                    let first = state.order.removeFirst()
                    state.waiting.remove(first)
                    if first == .all { state.all = false }
                    return first
                }
                if let taken { return taken }
                // A change added after the look above has left a wake-up in the one-element buffer.
                consumerWaits.store(true, ordering: .releasing)
                defer { consumerWaits.store(false, ordering: .releasing) }
                guard await iterator.next() != nil else { return nil }
            }
        }
    }

    /// The wake-up stream's iterator, used only by the stream's one consumer.
    private final class IteratorBox: @unchecked Sendable {
        // @unchecked: `next()` is called from one consumer at a time (an
        // unfolding stream's producer runs for one `next()` at a time).
        private var iterator: AsyncStream<Void>.Iterator

        init(_ iterator: AsyncStream<Void>.Iterator) { self.iterator = iterator }

        func next() async -> Void? { await iterator.next() }
    }

    /// Lets the watcher's handler reach the watcher it belongs to.
    private final class WatcherBox: @unchecked Sendable {
        // Written once, before the first event can arrive from a directory
        // other than the root; read only on the watcher's thread after that.
        var watcher: DirectoryWatcher?
    }
}
