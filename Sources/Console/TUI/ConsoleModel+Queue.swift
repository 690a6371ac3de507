import Queue

/// Bringing the console's list up to date with the queue: a whole rescan of
/// some bottles (``reload(_:from:)``), or one proposal re-read when the
/// watcher names one of its files (``refresh(_:of:from:)``). Both leave the
/// model as a rescan of the bottle would; the second reads one file.
extension ConsoleModel {
    /// What an update brought, for the event loop's side effects.
    struct QueueUpdate: Equatable {
        /// Pending proposals that were not on screen before (bell, notifications).
        var arrived: [Proposal] = []
    }

    /// Re-reads `bottles` (every bottle when `nil`), keeping proposals
    /// decided meanwhile on screen with their new state.
    mutating func reload(_ bottles: [BottleSlug]?, from reader: some ConsoleQueueReader) -> QueueUpdate {
        let targets = bottles ?? reader.bottles()
        let shown = Set(entries.map(\.proposal.id))
        let targetSet = Set(targets)
        var kept = entries.filter { !targetSet.contains($0.proposal.bottle) }
        var update = QueueUpdate()
        var unreadable: [QueueError] = []
        var replaced: ProposalID?
        for (bottle, result) in zip(targets, reader.scan(targets)) {
            guard case .success(let scan) = result else { continue }
            unreadable += scan.unreadable
            var pending = scan.entries.filter(\.isPending)
            let pendingIDs = Set(pending.map(\.proposal.id))
            update.arrived += pending.lazy.filter { !shown.contains($0.proposal.id) }.map(\.proposal)
            if let reviewing = reviewingID, let index = pending.firstIndex(where: { $0.proposal.id == reviewing }) {
                if let kept = keepReviewed(pending[index]) {
                    pending[index] = kept.entry
                    if kept.replaced { replaced = reviewing }
                }
            }
            kept += pending
            for old in entries where old.proposal.bottle == bottle && !pendingIDs.contains(old.proposal.id) {
                if let decided = decidedMeanwhile(old, decision: nil, from: reader) { kept.append(decided) }
            }
        }
        kept.sort(by: Self.oldestFirst)
        entries = kept
        settle(unreadable: unreadable, replaced: replaced)
        return update
    }

    /// Re-reads proposal `id` of `bottle` alone (its proposal file, and its
    /// decision if it has one), for a change the watcher named.
    mutating func refresh(_ id: ProposalID, of bottle: BottleSlug, from reader: some ConsoleQueueReader) -> QueueUpdate
    {
        var update = QueueUpdate()
        let index = entries.firstIndex { $0.proposal.id == id }
        let read: QueueEntry?
        var unreadable: [QueueError] = []
        do throws(QueueError) {
            read = try reader.entry(id, of: bottle)
        } catch {
            read = nil
            unreadable = [error]
        }
        var replaced: ProposalID?
        if let read, read.isPending {
            var entry = read
            if reviewingID == id, let kept = keepReviewed(read) {
                entry = kept.entry
                if kept.replaced { replaced = id }
            }
            if let index {
                entries.remove(at: index)
            } else {
                update.arrived.append(read.proposal)
            }
            insertSorted(entry)
        } else if let index {
            // Decided, archived or unreadable now: kept on screen only with its decision.
            if let decided = decidedMeanwhile(entries[index], decision: read?.decision, from: reader) {
                entries[index] = decided
            } else {
                entries.remove(at: index)
            }
        }
        settle(unreadable: unreadable, replaced: replaced)
        return update
    }

    // MARK: - Shared steps

    /// The proposal under review (its detail, notes or confirm prompt open)
    /// stays as it was shown: a file renamed over it in the queue must not
    /// change what the operator is about to decide. The decision stays bound
    /// to the shown bytes, so the apply step refuses it; `replaced` says the
    /// queue's file now differs. `nil` when it was not on screen.
    private func keepReviewed(_ read: QueueEntry) -> (entry: QueueEntry, replaced: Bool)? {
        guard var shown = entries.first(where: { $0.proposal.id == read.proposal.id }) else { return nil }
        shown.waiting = read.waiting
        return (shown, read.proposalSHA256 != shown.proposalSHA256)
    }

    /// An entry on screen that is no longer pending, with the decision that
    /// ended it (`decision`, or read from the queue); `nil` when it has none
    /// (it vanished or cannot be read), so it leaves the list.
    private func decidedMeanwhile(_ old: QueueEntry, decision: Decision?, from reader: some ConsoleQueueReader)
        -> QueueEntry?
    {
        var old = old
        if old.decision == nil { old.decision = decision ?? reader.decision(old.proposal.id, of: old.proposal.bottle) }
        old.waiting = false
        old.stoppedWaitingAt = nil
        return old.decision == nil ? nil : old
    }

    private mutating func insertSorted(_ entry: QueueEntry) {
        let position = entries.firstIndex { Self.oldestFirst(entry, $0) } ?? entries.endIndex
        entries.insert(entry, at: position)
    }

    private static func oldestFirst(_ lhs: QueueEntry, _ rhs: QueueEntry) -> Bool {
        (lhs.proposal.createdAt, lhs.proposal.id) < (rhs.proposal.createdAt, rhs.proposal.id)
    }

    /// Selection and messages after an update.
    private mutating func settle(unreadable: [QueueError], replaced: ProposalID?) {
        if selectedID == nil || !entries.contains(where: { $0.proposal.id == selectedID }) {
            selectedID = visible.first(where: \.isPending)?.proposal.id ?? visible.first?.proposal.id
        }
        if let first = unreadable.first {
            message = Message(
                text: "\(unreadable.count) queue file(s) skipped (\(first)); see `bottle-supervise list`", isError: true
            )
        }
        if let replaced {
            message = Message(
                text:
                    "proposal \(replaced) was replaced in the queue while you reviewed it; deciding it will be refused",
                isError: true)
        }
    }
}
