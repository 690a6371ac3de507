import FoundationEssentials

extension BottleQueue {
    /// How many of the most recently archived proposals a restarted sidecar
    /// reads, and how many bytes of them at most, to find each tool's latest
    /// archived decision: far more than the archives one client's timeout and
    /// retry can span, and a bound on what a start costs whatever the agent
    /// filled the archive with (a bottle that uses one tool never finds the
    /// other two, so the bound is what such a start reads; every proposal
    /// may be 2 MiB). The names and `fstatat` of the whole archive remain,
    /// about 2 µs a file.
    static let latestArchivedLookback = 64
    static let latestArchivedByteBudget = 4 << 20

    /// Tells the ``ResubmissionIndex``, after a restart, which archived
    /// proposal holds each tool's latest decision, as ``archive(_:)-(Proposal)``
    /// recorded it before the restart: so an old client's identical retry
    /// still gets the decision delivered into a stream it had given up on,
    /// even when the sidecar was replaced in between (a Watchtower-style
    /// update, a crash). Nothing here decides the answer: the retry checks
    /// the decision's status and the bottle's file again
    /// (``identical(tool:proposedFile:currentFileSHA256:)``).
    ///
    /// The archive keeps no order of its own, so the order is the archived
    /// proposal files' change times: a move into `archive/` sets a file's
    /// change time to the kernel's clock, and nothing rewrites an archived
    /// proposal (the host rewrites decisions, never proposals).
    func loadLatestArchived() throws(QueueError) {
        guard let archive = try openLive()?.subdirectory(QueueLayout.archiveName) else { return }
        var archived: [LatestArchived.Candidate] = []
        for name in try archive.names() {
            guard let id = QueueLayout.id(in: name, suffix: QueueLayout.proposalSuffix),
                let identity = archive.identity(of: name)
            else { continue }
            archived.append(.init(changed: identity.changed, size: identity.size, id: id))
        }
        let latest = LatestArchived.choose(
            from: archived, lookback: Self.latestArchivedLookback, byteBudget: Self.latestArchivedByteBudget
        ) { id in
            (try? readProposal(id, in: archive)?.proposal).map { ($0.tool, ResubmissionIndex.key(for: $0)) }
        }
        for (tool, found) in latest {
            ResubmissionIndex.shared.recordDeliveredUnlessKnown(found.key, tool: tool, id: found.id, in: directory.string)
        }
    }
}

/// Which archived proposal was archived last for each tool, from the files'
/// change times: the choice ``BottleQueue/loadLatestArchived()`` makes,
/// apart from the file system so that its rules are tested alone.
enum LatestArchived {
    struct Candidate: Sendable {
        /// The archived proposal file's change time, nanoseconds since 1970.
        let changed: Int64
        /// Its size in bytes, as `fstatat` said.
        let size: Int64
        let id: ProposalID
    }

    /// Reads candidates newest first (at most `lookback` of them, and no more
    /// once `byteBudget` bytes were read) until every tool has its newest,
    /// and returns each tool's (its resubmission key and id).
    ///
    /// Two candidates of one tool with the same change time were archived
    /// within one tick of the kernel's clock (one group commit) and cannot be
    /// told apart: that tool gets no entry, and its retry is a new request,
    /// which is what every retry after a restart was before this. A candidate
    /// `read` cannot read (`nil`: gone, malformed) is skipped.
    static func choose(
        from candidates: [Candidate], lookback: Int, byteBudget: Int, read: (ProposalID) -> (tool: Tool, key: String)?
    ) -> [Tool: (key: String, id: ProposalID)] {
        let newestFirst = candidates.sorted { ($0.changed, $0.id.rawValue) > ($1.changed, $1.id.rawValue) }
        var latest: [Tool: (changed: Int64, key: String, id: ProposalID)] = [:]
        var ambiguous: Set<Tool> = []
        var bytesRead: Int64 = 0
        for candidate in newestFirst.prefix(lookback) {
            // Every tool found, and nothing older can tie with one of them.
            if latest.count == Tool.allCases.count, let oldest = latest.values.map(\.changed).min(),
                candidate.changed < oldest
            {
                break
            }
            bytesRead += candidate.size
            if bytesRead > byteBudget { break }
            guard let (tool, key) = read(candidate.id) else { continue }
            if let found = latest[tool] {
                if found.changed == candidate.changed { ambiguous.insert(tool) }
                continue
            }
            latest[tool] = (candidate.changed, key, candidate.id)
        }
        var result: [Tool: (key: String, id: ProposalID)] = [:]
        for (tool, found) in latest where !ambiguous.contains(tool) { result[tool] = (found.key, found.id) }
        return result
    }
}
