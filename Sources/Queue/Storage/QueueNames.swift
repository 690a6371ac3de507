/// One listing of a queue directory, sorted by what each name is: the
/// proposals, and which of them have a decision, an attached call or a
/// stopped-waiting marker. Companion files are looked up here, by name,
/// rather than with a system call each.
struct QueueNames {
    let proposals: [ProposalID]
    let decided: Set<ProposalID>
    let waiting: Set<ProposalID>
    let stopped: Set<ProposalID>

    /// Lists `folder`; the archive (`archived`) has no waiting or stopped markers.
    init(_ folder: QueueDirectory, archived: Bool) throws(QueueError) {
        let names = try folder.names()
        proposals = names.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.proposalSuffix) }
        decided = Set(names.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.decisionSuffix) })
        waiting =
            archived ? [] : Set(names.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.waitingSuffix) })
        stopped =
            archived ? [] : Set(names.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.stoppedWaitingSuffix) })
    }
}
