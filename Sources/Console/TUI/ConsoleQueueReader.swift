import Queue

/// How the console reads the queue: whole bottles (at start, for a new
/// bottle, on the watcher's safety rescan) or one proposal (when the watcher
/// names one of its files).
///
/// A seam rather than direct calls so the tests can count what a live update
/// reads: one changed file must cost one file's read, not a bottle's scan.
protocol ConsoleQueueReader: Sendable {
    /// Every bottle that has a queue directory.
    func bottles() -> [BottleSlug]
    /// The live entries of `bottles`, one result per bottle, in order.
    func scan(_ bottles: [BottleSlug]) -> [Result<QueueRoot.BottleScan, QueueError>]
    /// One live proposal as a scan lists it; `nil` when it is no longer live.
    func entry(_ id: ProposalID, of bottle: BottleSlug) throws(QueueError) -> QueueEntry?
    /// The decision on `id`, live or archived; `nil` when there is none or it cannot be read.
    func decision(_ id: ProposalID, of bottle: BottleSlug) -> Decision?
}

/// The console's reader of a real queue root.
struct QueueRootReader: ConsoleQueueReader {
    let root: QueueRoot

    func bottles() -> [BottleSlug] { (try? root.bottles()) ?? [] }

    func scan(_ bottles: [BottleSlug]) -> [Result<QueueRoot.BottleScan, QueueError>] {
        zip(bottles, root.scan(bottles, archived: false)).map { bottle, result in
            result.map { scan in (scan.entries.map { withDeadlineInEffect($0, of: bottle) }, scan.unreadable) }
        }
    }

    func entry(_ id: ProposalID, of bottle: BottleSlug) throws(QueueError) -> QueueEntry? {
        try root.queue(for: bottle).listedEntry(id).map { withDeadlineInEffect($0, of: bottle) }
    }

    /// The entry with the deadline in effect: an operator's extension from the
    /// web page (`<id>.extended`, ``BottleQueue/deadline(of:)``) moves it, so the
    /// console neither calls an extended proposal expired nor refuses to decide it.
    /// Only what is shown changes: a decision is bound to the file's bytes, not to this field.
    private func withDeadlineInEffect(_ entry: QueueEntry, of bottle: BottleSlug) -> QueueEntry {
        guard entry.proposal.expiresAt != nil, entry.decision == nil else { return entry }
        var entry = entry
        entry.proposal.expiresAt = root.queue(for: bottle).deadline(of: entry.proposal)
        return entry
    }

    func decision(_ id: ProposalID, of bottle: BottleSlug) -> Decision? {
        try? root.queue(for: bottle).decision(id)
    }
}
