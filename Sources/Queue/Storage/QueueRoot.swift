import Foundation
import SystemPackage

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
        try DirectoryListing.names(in: path)
            .compactMap { name -> BottleSlug? in
                guard let slug = try? BottleSlug(name) else { return nil }
                var info = stat()
                guard stat(path.appending(name).string, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR
                else { return nil }
                return slug
            }
            .sorted()
    }

    /// The queue of one bottle.
    public func queue(for bottle: BottleSlug) -> BottleQueue {
        BottleQueue(directory: path.appending(bottle.rawValue), bottle: bottle)
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
            if queue.isLive(id)
                || access(QueueLayout.proposal(id, in: queue.archiveDirectory).string, F_OK) == 0
            {
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
