import FileAccess
import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The host's view of every bottle's queue: a directory holding one queue
/// directory per bottle slug (`~/.claude-bottle/queue/<slug>/`).
///
/// The console and the scriptable commands work here; an id typed by an
/// operator is found in whichever bottle holds it. Entries that are not
/// valid slugs (stray files, `audit.log`, dot files) are ignored rather
/// than trusted as paths.
public struct QueueRoot: Sendable {
    /// The queue root directory.
    public let path: FilePath

    /// A queue root at `path`; nothing is touched until it is used.
    public init(_ path: FilePath) {
        self.path = path
    }

    /// The bottles that have a queue directory, sorted by slug.
    public func bottles() throws(QueueError) -> [BottleSlug] {
        try scanBottles().bottles
    }

    /// The bottles that have a queue directory, sorted by slug, and the
    /// entries named like a slug that are not a real directory (a symbolic
    /// link, a FIFO, a file): those are skipped, never entered, and reported
    /// so the operator learns of them.
    public func scanBottles() throws(QueueError) -> (bottles: [BottleSlug], skipped: [QueueError]) {
        var bottles: [BottleSlug] = []
        var skipped: [QueueError] = []
        let entries = try QueueError.mapping { () throws(FileAccessError) in try DirectoryListing.entries(in: path) }
        for (name, type) in entries {
            guard let slug = try? BottleSlug(name) else { continue }
            switch type {
            case S_IFDIR: bottles.append(slug)
            case S_IFLNK:
                skipped.append(
                    .malformedFile(
                        path: path.appending(name).string,
                        reason: "a symbolic link where a bottle's queue directory belongs; not entered"))
            default: continue  // a stray file named like a slug is not a queue (audit.log's neighbours)
            }
        }
        return (bottles.sorted(), skipped)
    }

    /// The queue of one bottle.
    public func queue(for bottle: BottleSlug) -> BottleQueue {
        BottleQueue(directory: path.appending(bottle.rawValue), bottle: bottle, sealedUnder: path)
    }

    /// Every undecided proposal of every bottle, oldest first.
    public func pending() throws(QueueError) -> [QueueEntry] {
        var entries: [QueueEntry] = []
        for bottle in try bottles() {
            entries += try queue(for: bottle).entries(archived: false).filter(\.isPending)
        }
        return sortedByAge(entries)
    }

    /// Every proposal of every bottle, live and archived, oldest first.
    public func all() throws(QueueError) -> [QueueEntry] {
        var entries: [QueueEntry] = []
        for bottle in try bottles() {
            entries += try queue(for: bottle).all()
        }
        return sortedByAge(entries)
    }

    /// The queue holding proposal `id`, live or archived.
    /// - Throws: ``QueueError/noSuchProposal(_:)`` when no bottle has it.
    public func locate(_ id: ProposalID) throws(QueueError) -> BottleQueue {
        for bottle in try bottles() {
            let queue = queue(for: bottle)
            var info = stat()
            if queue.isLive(id) || lstat(QueueLayout.proposal(id, in: queue.archiveDirectory).string, &info) == 0 {
                return queue
            }
        }
        throw .noSuchProposal(id.rawValue)
    }

    private func sortedByAge(_ entries: [QueueEntry]) -> [QueueEntry] {
        entries.sorted {
            ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id)
        }
    }
}
