import FileAccess
import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One bottle's queue directory: the contract between the sidecar (inside
/// the bottle's network, where the directory is `/run/supervise/queue`) and
/// the operator's console on the host (`~/.claude-bottle/queue/<slug>/`).
///
/// The directory is the only shared state. Each fact is one file, written
/// whole by ``AtomicFile`` (docs/queue-format.md):
///
/// - `<id>.proposal.json` — the sidecar writes it once; never changed after.
/// - `<id>.decision.json` — created exclusively, so exactly one decision
///   wins however many operators race; only the winner later fills in the
///   apply outcome.
/// - `<id>.waiting` — present while an agent's call is attached.
/// - `archive/` — finished proposals and their decisions, for the audit trail.
///
/// Readers always look in the live directory before the archive, and
/// archiving moves the proposal before its decision, so a reader racing an
/// archive never sees a decided proposal as pending.
public struct BottleQueue: Sendable {
    /// The bottle's queue directory.
    public let directory: FilePath
    /// The bottle it belongs to.
    public let bottle: BottleSlug
    /// The queue root whose key seals the host's decisions (``DecisionSeal``);
    /// `nil` for the sidecar, which has no key and reads every decision as
    /// ``DecisionOrigin/unverified``.
    public let sealRoot: FilePath?

    /// A queue over `directory`, as the sidecar sees it (no key); nothing is
    /// touched until it is used.
    public init(directory: FilePath, bottle: BottleSlug) {
        self.directory = directory
        self.bottle = bottle
        self.sealRoot = nil
    }

    /// A queue over `directory` as the host sees it: decisions it writes are
    /// sealed with the key of the queue root `root`, and decisions it reads
    /// are judged by it (``DecisionOrigin``).
    public init(directory: FilePath, bottle: BottleSlug, sealedUnder root: FilePath) {
        self.directory = directory
        self.bottle = bottle
        self.sealRoot = root
    }

    var archiveDirectory: FilePath { directory.appending(QueueLayout.archiveName) }

    /// Creates the directory and its archive if they are missing.
    ///
    /// The archive gets the queue directory's own read/write/search bits,
    /// whatever the umask: when the host shares the directory with the
    /// sidecar's user through a group (`chmod 2770`, docs/deployment.md),
    /// the operator's tools must be able to write in the archive the sidecar
    /// made, as they can in the directory itself. (Its group comes from the
    /// setgid directory; the kernel may drop the setgid bit itself when the
    /// sidecar is not in that group, which changes nothing: files enter the
    /// archive by rename, keeping their group.)
    public func prepare() throws(QueueError) {
        try QueueError.mapping { () throws(FileAccessError) in try AtomicFile.makeDirectory(archiveDirectory) }
        var queueInfo = stat()
        var archiveInfo = stat()
        if stat(directory.string, &queueInfo) == 0, stat(archiveDirectory.string, &archiveInfo) == 0,
            archiveInfo.st_uid == geteuid(), archiveInfo.st_mode & 0o777 != queueInfo.st_mode & 0o777
        {
            chmod(archiveDirectory.string, (queueInfo.st_mode & 0o777) | (archiveInfo.st_mode & 0o7000))
        }
    }

    /// ``prepare()`` only if the archive is missing: a hot path's check that
    /// costs a lookup, where `mkdir` would take the directory's lock.
    private func prepareIfMissing() throws(QueueError) {
        if access(archiveDirectory.string, F_OK) != 0 { try prepare() }
    }

    // MARK: - Proposing

    /// Queues `proposal`, or finds the identical one already queued.
    ///
    /// Identical means same bottle, same tool and byte-identical proposed
    /// file. While such a proposal is pending, the caller attaches to it; if
    /// it was decided while nobody waited, the caller gets that decision.
    /// Identical calls racing in this process resolve to one proposal: the
    /// first queues it, the others attach to its result. The proposal file
    /// is durable when this returns (written through ``GroupCommit``, so
    /// many concurrent submissions share one journal commit).
    public func submit(_ proposal: Proposal) async throws(QueueError) -> Submission {
        try prepareIfMissing()
        let index = ResubmissionIndex.shared
        if !index.isLoaded(directory.string) {
            // A damaged file is the operator's to see (`list` names it); it must not stop every call.
            index.load(directory.string, try scan(archived: false).entries.map(\.proposal))
        }
        let key = ResubmissionIndex.key(for: proposal)
        let first: Result<Submission, QueueError>? = await withCheckedContinuation { continuation in
            if index.enter(key, in: directory.string, continuation) { continuation.resume(returning: nil) }
        }
        if let first {
            // Attached to an identical call of this process: its new proposal is ours to wait on.
            if case .success(.queued(let proposal)) = first { return .attached(proposal) }
            return try first.get()
        }
        let result: Result<Submission, QueueError>
        do throws(QueueError) {
            result = .success(try await queueOrMatch(proposal, key: key))
        } catch {
            result = .failure(error)
        }
        let queued: ProposalID? = if case .success(.queued(let proposal)) = result { proposal.id } else { nil }
        for follower in index.leave(key, in: directory.string, queued: queued) { follower.resume(returning: result) }
        return try result.get()
    }

    /// The live proposal identical to a call of `tool` with `proposedFile`,
    /// pending (``Submission/attached(_:)``) or decided while nobody waited
    /// (``Submission/decided(_:_:)``); `nil` when there is none.
    ///
    /// The sidecar asks this before validating a call: a retry must find its
    /// decision even when the operator's approval has since made the file
    /// current, which would fail the no-op check.
    /// - Parameter currentFileSHA256: the hash of the bottle's file now (`nil`: there is none), which a
    ///   decision already delivered must have left in place to answer the retry.
    public func identical(tool: Tool, proposedFile: String, currentFileSHA256: String?) throws(QueueError) -> Submission? {
        try prepareIfMissing()
        let index = ResubmissionIndex.shared
        if !index.isLoaded(directory.string) {
            index.load(directory.string, try scan(archived: false).entries.map(\.proposal))
        }
        let key = ResubmissionIndex.key(tool: tool, proposedFileSHA256: SHA256Hex.of(proposedFile))
        if let id = index.proposal(for: key, in: directory.string) {
            if let match = try liveMatch(id) { return match }
            index.remove(key, naming: id, in: directory.string)
        }
        return try deliveredMatch(key: key, tool: tool, currentFileSHA256: currentFileSHA256)
    }

    private func queueOrMatch(_ proposal: Proposal, key: String) async throws(QueueError) -> Submission {
        if let id = ResubmissionIndex.shared.proposal(for: key, in: directory.string) {
            if let existing = try liveMatch(id) { return existing }
            ResubmissionIndex.shared.remove(key, naming: id, in: directory.string)
        }
        if let delivered = try deliveredMatch(key: key, tool: proposal.tool, currentFileSHA256: proposal.currentFileSHA256) {
            return delivered
        }
        let path = QueueLayout.proposal(proposal.id, in: directory)
        try await GroupCommit.shared.commit([.create(try encode(proposal), at: path)])
        TaskOrderIndex.shared.insert(directory.string, .init(createdAt: proposal.createdAt, id: proposal.id))
        return .queued(proposal)
    }

    /// The archived proposal identical to a call (`key`), with its decision,
    /// when that decision was delivered and is still the latest one archived
    /// for `tool`'s file, and is an approval, a modification or a rejection.
    ///
    /// A decision counts as delivered once written to the call's connection,
    /// and an old client (the Python SDK 1.x) gives up on a call after its own
    /// timeout without closing the stream: the decision goes into a stream
    /// nobody reads. Its identical retry is answered with that decision —
    /// not "identical to the current file" after an approval, nor queued a
    /// second time after a rejection. A later decision on the same file (a
    /// different proposal decided and archived) ends that, and so does a
    /// bottle's file that is no longer the one the decision left (the operator
    /// rolled an approval back, or changed the file after a rejection): the
    /// retry is then a new request. Withdrawn and expired calls are asked again.
    private func deliveredMatch(key: String, tool: Tool, currentFileSHA256: String?) throws(QueueError) -> Submission? {
        guard let id = ResubmissionIndex.shared.delivered(for: key, tool: tool, in: directory.string) else { return nil }
        let archive = try openLive()?.subdirectory(QueueLayout.archiveName)
        guard let proposal = try readProposal(id, in: archive)?.proposal, let decision = try readDecision(id, in: archive),
            decision.status.isApproval || decision.status == .rejected, decision.isFinal
        else { return nil }
        // What the decision left in the bottle: the file it applied, or (refused, or not applied) the one it was made against.
        let left =
            decision.status.isApproval && decision.apply?.state == .applied
            ? decision.apply?.newSHA256 : proposal.currentFileSHA256
        guard left == currentFileSHA256 else { return nil }
        return .decided(proposal, decision)
    }

    /// The proposal `id` as a retry finds it: decided while nobody waited,
    /// or still pending; `nil` when it is no longer live.
    private func liveMatch(_ id: ProposalID) throws(QueueError) -> Submission? {
        let live = try openLive()
        guard let proposal = try readProposal(id, in: live)?.proposal else { return nil }
        if let decision = try readDecision(id, in: live) {
            return .decided(proposal, decision)
        }
        return .attached(proposal)
    }

    // MARK: - Reading

    /// One page of every proposal, live and archived, oldest first, for
    /// `tasks/list`: up to `limit` entries after the one with id `cursor`
    /// (from the first when `nil`), and whether more follow. Each page reads
    /// its own entries' files only (``TaskOrderIndex``); the directory is read
    /// whole once per process, at the first page. Entries that cannot be read
    /// are skipped, as a scan skips them.
    /// - Returns: the entries, and the cursor of the next page (the page's
    ///   last id, read or not) when more follow; `nil` when `cursor` names no
    ///   proposal of this queue.
    public func page(after cursor: ProposalID?, limit: Int) throws(QueueError)
        -> (entries: [QueueEntry], next: ProposalID?)?
    {
        let index = TaskOrderIndex.shared
        if !index.isLoaded(directory.string) {
            let entries = try scan(archived: false).entries + scan(archived: true).entries
            index.load(directory.string, entries.map { .init(createdAt: $0.proposal.createdAt, id: $0.proposal.id) })
        }
        guard let (ids, more) = index.page(directory.string, after: cursor, limit: limit) else { return nil }
        let live = try openLive()
        let archive = try live?.subdirectory(QueueLayout.archiveName)
        var entries: [QueueEntry] = []
        for id in ids {
            // Live first; archived when it has moved (the proposal moves before its decision).
            if let entry = try? listedEntry(id) {
                entries.append(entry)
            } else if let archive, let entry = try? listedEntry(
                id, in: archive, archived: true, decided: archive.contains(id.rawValue + QueueLayout.decisionSuffix),
                waiting: false, stopped: false)
            {
                entries.append(entry)
            }
        }
        return (entries, more ? ids.last : nil)
    }

    /// The proposal with `id`, live or archived.
    /// - Throws: ``QueueError/noSuchProposal(_:)`` when it is in neither.
    public func proposal(_ id: ProposalID) throws(QueueError) -> Proposal {
        try entry(id).proposal
    }

    /// The proposal with `id`, live or archived, as one read: its file is
    /// opened and read once, and the proposal, its digest
    /// (``QueueEntry/proposalSHA256``) and any ``QueueEntry/problem`` all
    /// come from those bytes — what the operator is shown is what a decision
    /// on the entry is bound to.
    /// - Throws: ``QueueError/noSuchProposal(_:)`` when it is in neither.
    public func entry(_ id: ProposalID) throws(QueueError) -> QueueEntry {
        let live = try openLive()
        if let read = try readProposal(id, in: live) {
            let waiting = live?.contains(id.rawValue + QueueLayout.waitingSuffix) ?? false
            var decision = try readDecision(id, in: live)
            if decision == nil, live?.contains(id.rawValue + QueueLayout.proposalSuffix) != true {
                // Archived between the two reads (the proposal moves first, then its
                // decision): the decision is in the archive now, not absent.
                decision = try readDecision(id, in: try live?.subdirectory(QueueLayout.archiveName))
            }
            var entry = QueueEntry(
                proposal: read.proposal, decision: decision, waiting: waiting, archived: false,
                proposalSHA256: read.sha256, problem: read.proposal.contentProblem(),
                stoppedWaitingAt: waiting ? nil : stoppedWaitingTime(id))
            try noteForgeries(in: &entry)
            return entry
        }
        let archive = try live?.subdirectory(QueueLayout.archiveName)
        if let read = try readProposal(id, in: archive) {
            var entry = QueueEntry(
                proposal: read.proposal, decision: try readDecision(id, in: archive), waiting: false, archived: true,
                proposalSHA256: read.sha256, problem: read.proposal.contentProblem())
            try noteForgeries(in: &entry)
            return entry
        }
        throw .noSuchProposal(id.rawValue)
    }

    /// SHA-256 of the live proposal file `id` as it is now, read through the
    /// same guards; `nil` when it is no longer live. Applying compares it
    /// with the digest the decision was bound to.
    public func liveProposalSHA256(_ id: ProposalID) throws(QueueError) -> String? {
        guard let live = try openLive(), let data = try live.read(id.rawValue + QueueLayout.proposalSuffix) else {
            return nil
        }
        return SHA256Hex.of(data)
    }

    /// The decision on `id`, live or archived; `nil` while it is pending.
    ///
    /// A decision file that cannot be read is an error, never an approval.
    /// On the host, a decision the host did not make is set aside and not
    /// returned (``DecisionOrigin/forged``): the proposal is still decidable.
    public func decision(_ id: ProposalID) throws(QueueError) -> Decision? {
        let live = try openLive()
        if let decision = try readDecision(id, in: live), decision.origin.counts { return decision }
        guard let archived = try readDecision(id, in: try live?.subdirectory(QueueLayout.archiveName)),
            archived.origin.counts
        else { return nil }
        return archived
    }

    /// Whether `id` is live (not archived) in this queue.
    public func isLive(_ id: ProposalID) -> Bool {
        var info = stat()
        return lstat(QueueLayout.proposal(id, in: directory).string, &info) == 0
    }

    /// Whether an agent's call is attached to `id`.
    public func isWaiting(_ id: ProposalID) -> Bool {
        var info = stat()
        return lstat(QueueLayout.waiting(id, in: directory).string, &info) == 0
    }

    /// The ids of the live proposals, in id (creation) order.
    public func liveIDs() throws(QueueError) -> [ProposalID] {
        try QueueError.mapping { () throws(FileAccessError) in try DirectoryListing.names(in: directory) }
            .compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.proposalSuffix) }
            .sorted()
    }

    /// How many live proposals have no decision yet, from the file names
    /// alone (for `/metrics`, which must stay cheap with 10,000 pending).
    public func pendingCount() throws(QueueError) -> Int {
        let names = try QueueError.mapping { () throws(FileAccessError) in try DirectoryListing.names(in: directory) }
        let decided = Set(names.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.decisionSuffix) })
        return names.lazy.compactMap { QueueLayout.id(in: $0, suffix: QueueLayout.proposalSuffix) }
            .filter { !decided.contains($0) }.count
    }

    /// Every undecided proposal, oldest first.
    public func pending() throws(QueueError) -> [Proposal] {
        try entries(archived: false).filter(\.isPending).map(\.proposal)
    }

    /// Every proposal, live and archived, with its decision, oldest first.
    public func all() throws(QueueError) -> [QueueEntry] {
        try (entries(archived: false) + entries(archived: true))
            .sorted { ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id) }
    }

    /// The live entries (`archived: false`) or the archived ones.
    /// - Throws: the first unreadable file's error; ``scan(archived:)`` reads past them.
    public func entries(archived: Bool) throws(QueueError) -> [QueueEntry] {
        let result = try scan(archived: archived)
        if let first = result.unreadable.first { throw first }
        return result.entries
    }

    /// The live entries (`archived: false`) or the archived ones, oldest
    /// first, and the errors of files that could not be read — so one
    /// damaged file hides nothing else from the operator.
    ///
    /// An entry's ``QueueEntry/problem`` here is only the cheap check
    /// (``Proposal/hashProblem()``); ``entry(_:)`` runs the validator too.
    /// Proposal files are decoded by the listing's fast path
    /// (``Proposal/listed(from:path:)``), which gives what the full decode
    /// of ``entry(_:)`` gives for the same bytes, without `JSONDecoder`.
    public func scan(archived: Bool) throws(QueueError) -> (entries: [QueueEntry], unreadable: [QueueError]) {
        var result: [QueueEntry] = []
        var unreadable: [QueueError] = []
        let opened: QueueDirectory?
        do throws(QueueError) {
            let live = try openLive()
            opened = archived ? try live?.subdirectory(QueueLayout.archiveName) : live
        } catch {
            // A slug directory or archive/ that is a link: skipped and reported, never entered.
            return ([], [error])
        }
        guard let folder = opened else { return ([], []) }
        let names = try QueueNames(folder, archived: archived)
        for id in names.proposals {
            do throws(QueueError) {
                // A proposal can vanish between listing and reading: it was archived meanwhile.
                guard
                    let entry = try listedEntry(
                        id, in: folder, archived: archived, decided: names.decided.contains(id),
                        waiting: names.waiting.contains(id), stopped: names.stopped.contains(id))
                else { continue }
                result.append(entry)
            } catch {
                unreadable.append(error)
            }
        }
        result.sort { ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id) }
        return (result, unreadable)
    }

    /// One live proposal exactly as ``scan(archived:)`` lists it, read alone:
    /// what the console re-reads when the watcher names one of its files, so
    /// a change costs one file's read, not the bottle's. The markers are
    /// looked up by name (no listing), the proposal through the listing's
    /// fast path and the same guards.
    /// - Returns: `nil` when the proposal is not live (archived, or never was).
    /// - Throws: the error of a file that cannot be read.
    public func listedEntry(_ id: ProposalID) throws(QueueError) -> QueueEntry? {
        guard let live = try openLive() else { return nil }
        return try listedEntry(
            id, in: live, archived: false, decided: live.contains(id.rawValue + QueueLayout.decisionSuffix),
            waiting: live.contains(id.rawValue + QueueLayout.waitingSuffix),
            stopped: live.contains(id.rawValue + QueueLayout.stoppedWaitingSuffix))
    }

    /// A live undecided proposal as one directory listing names it, before
    /// its file is opened: ``pendingVersions(reusing:pinningBefore:)``.
    public struct PendingName: Sendable {
        public let id: ProposalID
        /// The proposal file's identity from a no-follow `fstatat`; `nil`
        /// when it is not a regular file (a reader's open says why) or vanished.
        public let identity: FileIdentity?
        /// Whether an agent's call is attached.
        public let waiting: Bool
        /// When the last call stopped waiting (``stoppedWaitingTime(_:)``).
        public let stoppedWaitingAt: Date?
    }

    /// A pending proposal as ``pendingVersions(reusing:pinningBefore:)`` gives it.
    public enum PendingVersion: Sendable {
        /// The lister knew this version: nothing was opened.
        case known(PendingName)
        /// Read and checked as ``listedEntry(_:)`` does, with the identity
        /// that names exactly the bytes read when it was pinned
        /// (``QueueDirectory/readVersion(_:limit:pinning:)``); `nil`: this
        /// version must not be kept.
        case read(PendingName, QueueEntry, FileIdentity?)
        /// Its file, or its decision's, could not be read (a link, a FIFO, malformed…).
        case unreadable(QueueError)
    }

    /// The live proposals that have no decision, from one listing of the
    /// directory and one `fstatat` per proposal; each is read only when
    /// `reusing` says the lister does not already know that version. So a
    /// lister with a cache of what each version of a file says (`list`)
    /// pays a file's open and read only for files it has not seen, and for
    /// those, nothing more than a scan would: the files are opened relative
    /// to the directory already open, with the markers the listing found.
    /// A proposal that vanished between listing and reading is left out; a
    /// decision file that cannot be read is reported, as a scan would.
    ///
    /// - Parameter start: when the lister keeps versions, the time its
    ///   listing began (ns since 1970): a file whose last change was settled
    ///   by then is read pinned (``QueueDirectory/readVersion(_:limit:pinning:)``).
    ///   On a file system that does not keep change times for mapped writes
    ///   (``QueueDirectory/keepsChangeTimes``), or when `nil`, `reusing` is
    ///   never asked and nothing is pinned.
    /// - Throws: the error of a slug directory that is a link, or cannot be listed.
    public func pendingVersions(reusing isKnown: (PendingName) -> Bool, pinningBefore start: Int64?)
        throws(QueueError) -> PendingListing
    {
        guard let live = try openLive() else { return PendingListing(versions: [], hasDecisions: false) }
        let names = try QueueNames(live, archived: false)
        let keeping = start != nil && live.keepsChangeTimes
        var versions: [PendingVersion] = []
        versions.reserveCapacity(names.proposals.count)
        for id in names.proposals {
            if names.decided.contains(id) {
                // Decided: not pending. A decision file that cannot be read hides nothing silently.
                // One the host did not make is set aside as it is read: the proposal is pending.
                do throws(QueueError) {
                    if try readDecision(id, in: live)?.origin.counts != false { continue }
                } catch {
                    versions.append(.unreadable(error))
                    continue
                }
            }
            let waiting = names.waiting.contains(id)
            let stopped = !waiting && names.stopped.contains(id)
            let name = PendingName(
                id: id, identity: live.identity(of: id.rawValue + QueueLayout.proposalSuffix), waiting: waiting,
                stoppedWaitingAt: stopped ? stoppedWaitingTime(id) : nil)
            if keeping, name.identity != nil, isKnown(name) {
                versions.append(.known(name))
                continue
            }
            let pinning = keeping && start.map { name.identity?.isSettled(at: $0) ?? false } ?? false
            do throws(QueueError) {
                guard
                    let read = try listedVersion(
                        id, in: live, archived: false, decided: false, waiting: waiting, stopped: false,
                        pinning: pinning)
                else { continue }
                var entry = read.entry
                entry.stoppedWaitingAt = name.stoppedWaitingAt
                versions.append(.read(name, entry, read.identity))
            } catch {
                versions.append(.unreadable(error))
            }
        }
        return PendingListing(versions: versions, hasDecisions: !names.decided.isEmpty)
    }

    /// What ``pendingVersions(reusing:pinningBefore:)`` found.
    public struct PendingListing: Sendable {
        /// The pending proposals, in directory order.
        public let versions: [PendingVersion]
        /// Whether the live directory holds any decision file: only such a
        /// bottle can have an apply a crash cut off, so crash recovery need
        /// not list the others again (``QueueRoot/applyingEntries(of:)``).
        public let hasDecisions: Bool
    }

    /// The entry for proposal `id` in `folder`, given which of its companion
    /// names exist there; `nil` when its proposal file is gone.
    private func listedEntry(
        _ id: ProposalID, in folder: QueueDirectory, archived: Bool, decided: Bool, waiting: Bool, stopped: Bool
    ) throws(QueueError) -> QueueEntry? {
        try listedVersion(
            id, in: folder, archived: archived, decided: decided, waiting: waiting, stopped: stopped, pinning: false)?
            .entry
    }

    private func listedVersion(
        _ id: ProposalID, in folder: QueueDirectory, archived: Bool, decided: Bool, waiting: Bool, stopped: Bool,
        pinning: Bool
    ) throws(QueueError) -> (entry: QueueEntry, identity: FileIdentity?)? {
        guard let read = try readProposal(id, in: folder, listing: true, pinning: pinning) else { return nil }
        // Archiving moves the proposal before its decision, so a live
        // proposal's decision, if any, is live too.
        let readDecision: Decision? = decided ? try readDecision(id, in: folder) : nil
        let decision = readDecision?.origin.counts == false ? nil : readDecision
        var entry = QueueEntry(
            proposal: read.proposal, decision: decision, waiting: waiting, archived: archived,
            proposalSHA256: read.sha256, problem: decision == nil ? read.proposal.hashProblem() : nil,
            stoppedWaitingAt: !waiting && stopped ? stoppedWaitingTime(id) : nil)
        if decision == nil, readDecision != nil { entry.forgedDecision = readDecision }
        return (entry, read.identity)
    }

    /// The live entries whose decision is an approval still applying
    /// (`apply.state == pending`), for crash recovery: only decision files
    /// are read, and a proposal only for those, so running it before every
    /// host command costs a directory listing, not a scan of every proposal.
    /// Files that cannot be read are skipped (``scan(archived:)`` reports them).
    public func applyingEntries() throws(QueueError) -> [QueueEntry] {
        guard let live = try? openLive() else { return [] }
        var found: [QueueEntry] = []
        for id in try live.names().compactMap({ QueueLayout.id(in: $0, suffix: QueueLayout.decisionSuffix) }) {
            // Only the host's own decisions are finished: a forged or unsigned one is never "recovered".
            guard let decision = try? readDecision(id, in: live), decision.status.isApproval,
                decision.origin.isHostMade,
                decision.apply?.state == .pending, let read = try? readProposal(id, in: live)
            else { continue }
            found.append(
                QueueEntry(
                    proposal: read.proposal, decision: decision, waiting: false, archived: false,
                    proposalSHA256: read.sha256))
        }
        return found
    }

    // MARK: - Deciding

    /// Records `decision`, if no decision exists yet.
    ///
    /// Exactly one decision wins, also across processes: the decision file
    /// is created with an exclusive link, and every later attempt (a second
    /// operator, an agent's withdrawal racing an approval, an expiry) fails
    /// with ``QueueError/alreadyDecided(_:status:)`` naming the winner's status.
    public func decide(_ decision: Decision) throws(QueueError) {
        let id = decision.id
        let proposalName = id.rawValue + QueueLayout.proposalSuffix
        let decisionName = id.rawValue + QueueLayout.decisionSuffix
        guard let live = try openLive(), live.contains(proposalName) else {
            if let existing = try self.decision(id) { throw .alreadyDecided(id, status: existing.status) }
            if try readProposal(id, in: try openLive()?.subdirectory(QueueLayout.archiveName)) != nil {
                throw .alreadyDecided(id, status: .withdrawn)
            }
            throw .noSuchProposal(id.rawValue)
        }
        // Only a proposal that is a regular file can be decided: a link or a FIFO in its place is no proposal.
        guard live.containsRegularFile(proposalName) else {
            throw .malformedFile(
                path: live.path.appending(proposalName).string, reason: "not a regular file; it cannot be decided")
        }
        // Created relative to the directory's descriptor with an exclusive
        // link: a name the sidecar planted (a link, a FIFO) makes this fail,
        // and nothing is ever written through it.
        let (decision, data) = try sealedForWriting(decision)
        var attempts = 0
        func create() throws(QueueError) -> Bool {
            try QueueError.mapping { () throws(FileAccessError) in
                try AtomicFile.create(data, named: decisionName, in: live.directory)
            }
        }
        while try !create() {
            // The name is taken: by a decision that counts (another operator
            // won, or the agent withdrew), by a forged one (set aside as it is
            // read: then the name is free again, and this decision is made once
            // more), or by something that is not one, whose error the caller
            // gets. A forgery's claimed status is never reported as the winner.
            if let existing = try readDecision(id, in: live), existing.origin.counts {
                throw .alreadyDecided(id, status: existing.status)
            }
            attempts += 1
            guard attempts < Self.decideAttempts else { throw .forgedDecisionsKeepReappearing(id) }
        }
        // The proposal gone from the live directory means an archiver moved it
        // after reading a decision. If the archive holds a decision other than
        // ours, an earlier one was archived between our check and our create:
        // ours is an orphan and the earlier one stands. Otherwise the archiver
        // read *our* decision (the sidecar archives as soon as it has answered)
        // and is about to move it: ours stands and must not be removed.
        if !live.contains(proposalName),
            let archived = try readDecision(id, in: try live.subdirectory(QueueLayout.archiveName)),
            archived.origin.counts, archived != decision
        {
            unlinkat(live.descriptor, decisionName, 0)
            throw .alreadyDecided(id, status: archived.status)
        }
    }

    /// How many times ``decide(_:)`` sets aside a forged decision in its way
    /// before it gives up: a sidecar writing one in a loop cannot hold it forever.
    static let decideAttempts = 5

    /// Fills in the apply outcome of a decision this process won.
    ///
    /// The decision file is replaced whole; a waiting caller wakes on the
    /// rename and, the decision now being final, is answered.
    public func recordApply(_ outcome: ApplyOutcome, for id: ProposalID) throws(QueueError) {
        try updateDecision(id) { $0.apply = outcome }
    }

    /// Records when the access a time-boxed approval granted ends (extended,
    /// or ended early), so the agent's next status answer says so. The
    /// host's grant ledger stays the truth; this is what the agent reads.
    public func recordGrantEnd(_ expiresAt: Date, for id: ProposalID) throws(QueueError) {
        try updateDecision(id) { $0.expiresAt = Timestamp.normalized(expiresAt) }
    }

    /// Replaces the decision on `id`, live or archived, with `change` applied.
    ///
    /// Only a decision the host sealed is changed (and sealed again): a
    /// forged one is set aside as it is read, and an unsigned one or the
    /// sidecar's withdrawal is refused, never sealed as if the operator had
    /// made it. The host keeps a copy of the new version first
    /// (``DecisionSeal/keepHostCopy(_:of:bottle:)``), so the older version,
    /// sealed too, cannot be put back by the sidecar later.
    private func updateDecision(_ id: ProposalID, _ change: (inout Decision) -> Void) throws(QueueError) {
        let live = try openLive()
        let name = id.rawValue + QueueLayout.decisionSuffix
        for folder in [live, try live?.subdirectory(QueueLayout.archiveName)] {
            guard let folder, var decision = try readDecision(id, in: folder), decision.origin.counts else { continue }
            guard decision.origin.isHostMade else {
                throw .malformedFile(
                    path: folder.path.appending(name).string,
                    reason: "the decision was not sealed by this host (\(decision.origin.label ?? decision.origin.rawValue)); "
                        + "it is left as it is: the host changes only its own decisions")
            }
            change(&decision)
            let data = try sealedForWriting(decision).data
            if let sealRoot { try DecisionSeal.of(root: sealRoot).keepHostCopy(data, of: id, bottle: bottle) }
            // Replaced by renameat within the directory: never written through a planted link.
            // Sealed again: the MAC covers the apply outcome too.
            try QueueError.mapping { () throws(FileAccessError) in
                try AtomicFile.write(data, named: name, in: folder.directory)
            }
            return
        }
        throw .noSuchProposal(id.rawValue)
    }

    // MARK: - Waiting markers and archive

    /// Marks whether an agent's call is attached to `id` (for the console's "waiting" column).
    ///
    /// Only the marker's presence means anything, so it is a hard link to
    /// the proposal file (one directory operation and no new inode: under
    /// 10,000 calls, allocating inodes and the directory's lock are most of
    /// the sidecar's cost) and is not fsynced: it describes a connection,
    /// which a crash ends anyway, and the sidecar clears every marker when
    /// it starts.
    public func setWaiting(_ id: ProposalID, _ waiting: Bool) throws(QueueError) {
        let path = QueueLayout.waiting(id, in: directory)
        if waiting {
            // A marker already there (EEXIST) is the same fact.
            if link(QueueLayout.proposal(id, in: directory).string, path.string) != 0, errno != EEXIST {
                throw .io(operation: "create", path: path.string, errno: errno)
            }
        } else if unlink(path.string) != 0, errno != ENOENT {
            throw .io(operation: "remove", path: path.string, errno: errno)
        }
    }

    /// Moves a decided proposal and its decision into `archive/`.
    ///
    /// The proposal moves first, then the decision, so that at every instant
    /// a reader that looks in the live directory and then the archive finds
    /// the decision. Archiving an undecided proposal is refused: the audit
    /// trail never holds a proposal without its outcome. Both moves are one
    /// ``GroupCommit``: durable when this returns, at one flush however many
    /// calls are answered at once.
    public func archive(_ id: ProposalID) async throws(QueueError) {
        let live = try openLive()
        guard let proposal = try readProposal(id, in: live)?.proposal else {
            if try readProposal(id, in: try live?.subdirectory(QueueLayout.archiveName)) != nil { return }
            throw .noSuchProposal(id.rawValue)
        }
        try await archive(proposal)
    }

    /// Archives `proposal`, already read by the caller (the sidecar holds it):
    /// the same as ``archive(_:)-(ProposalID)`` without reading it again.
    public func archive(_ proposal: Proposal) async throws(QueueError) {
        let id = proposal.id
        guard isLive(id) else {
            if access(QueueLayout.proposal(id, in: archiveDirectory).string, F_OK) == 0 { return }
            throw .noSuchProposal(id.rawValue)
        }
        guard access(QueueLayout.decision(id, in: directory).string, F_OK) == 0 else {
            throw .malformedFile(
                path: QueueLayout.proposal(id, in: directory).string,
                reason: "cannot archive an undecided proposal")
        }
        try prepareIfMissing()
        try await GroupCommit.shared.commit([
            .move(QueueLayout.proposal(id, in: directory), to: QueueLayout.proposal(id, in: archiveDirectory)),
            .move(QueueLayout.decision(id, in: directory), to: QueueLayout.decision(id, in: archiveDirectory)),
        ])
        unlink(QueueLayout.waiting(id, in: directory).string)
        clearStoppedWaiting(id)
        clearExtension(id)
        let key = ResubmissionIndex.key(for: proposal)
        ResubmissionIndex.shared.remove(key, naming: id, in: directory.string)
        ResubmissionIndex.shared.recordDelivered(key, tool: proposal.tool, id: id, in: directory.string)
    }

    // MARK: - Recovery

    /// Brings the directory back to a consistent state after a crash.
    ///
    /// Removes temp files a dead writer left, finishes an archive that was
    /// cut between its two moves, and — when the caller is the sidecar
    /// starting afresh, so no call can be attached — clears waiting markers.
    /// Pending proposals are left alone: they stay listed and decidable, and
    /// an identical retry finds them (they are read into the
    /// ``ResubmissionIndex``, with each tool's latest archived decision).
    @discardableResult
    public func recover(clearWaitingMarkers: Bool) throws(QueueError) -> RecoveryReport {
        try prepare()
        var report = RecoveryReport()
        report.removedTempFiles = try QueueError.mapping { () throws(FileAccessError) in
            try AtomicFile.removeStaleTempFiles(in: directory) + AtomicFile.removeStaleTempFiles(in: archiveDirectory)
        }
        let names = try QueueError.mapping { () throws(FileAccessError) in try DirectoryListing.names(in: directory) }
        for name in names {
            if let id = QueueLayout.id(in: name, suffix: QueueLayout.decisionSuffix), !isLive(id),
                access(QueueLayout.proposal(id, in: archiveDirectory).string, F_OK) == 0
            {
                // The crash came between archiving the proposal and its decision.
                try QueueError.mapping { () throws(FileAccessError) in
                    try AtomicFile.move(
                        QueueLayout.decision(id, in: directory),
                        to: QueueLayout.decision(id, in: archiveDirectory))
                }
            }
            if let id = QueueLayout.id(in: name, suffix: QueueLayout.waitingSuffix),
                clearWaitingMarkers || !isLive(id)
            {
                unlink(QueueLayout.waiting(id, in: directory).string)
                report.clearedWaitingMarkers.append(id)
                // The call ended with the sidecar, at the latest now: the operator sees it stopped waiting.
                if isLive(id) { try? markStoppedWaiting(id) }
            }
            if let id = QueueLayout.id(in: name, suffix: QueueLayout.stoppedWaitingSuffix), !isLive(id) {
                clearStoppedWaiting(id)
            }
            if name.hasSuffix(QueueLayout.legacyKeySuffix) {
                // An index file of builds before the in-memory index; the index is rebuilt below.
                unlink(directory.appending(name).string)
            }
        }
        let live = try scan(archived: false).entries
        report.pendingProposals = live.count { $0.isPending }
        ResubmissionIndex.shared.load(directory.string, live.map(\.proposal))
        // A convenience for retries: an archive that cannot be read must not stop the sidecar.
        try? loadLatestArchived()
        return report
    }

    // MARK: - Files

    private func encode<T: Encodable>(_ value: T) throws(QueueError) -> Data {
        do { return try QueueFormat.encode(value) } catch {
            throw .malformedFile(path: directory.string, reason: "could not encode: \(error)")
        }
    }

    /// The bottle's directory, opened without following a link (``QueueDirectory``);
    /// `nil` when it does not exist.
    func openLive() throws(QueueError) -> QueueDirectory? {
        try QueueDirectory.open(directory)
    }

    /// Reads `<id>.proposal.json` in `folder` through the guards of
    /// ``QueueDirectory/read(_:limit:)``, and its digest from the same bytes.
    ///
    /// A file is only believed about itself: its id must match its name,
    /// its bottle the directory's slug, and its fields their shapes
    /// (``Proposal/shapeProblem()``), or it is malformed.
    /// - Parameter listing: decode with the listing's fast path
    ///   (``Proposal/listed(from:path:)``) rather than the full decode; the
    ///   two give the same proposal for the same bytes.
    /// - Parameter pinning: also the identity naming exactly these bytes
    ///   (``QueueDirectory/readVersion(_:limit:pinning:)``).
    func readProposal(_ id: ProposalID, in folder: QueueDirectory?, listing: Bool = false, pinning: Bool = false)
        throws(QueueError) -> (proposal: Proposal, sha256: String, identity: FileIdentity?)?
    {
        let name = id.rawValue + QueueLayout.proposalSuffix
        guard let folder, let (data, identity) = try folder.readVersion(name, pinning: pinning) else { return nil }
        func path() -> String { folder.path.appending(name).string }
        let proposal =
            listing
            ? try Proposal.listed(from: data, path: path) : try QueueFormat.decode(Proposal.self, from: data, path: path())
        guard proposal.id == id else {
            throw .malformedFile(path: path(), reason: "its id \(proposal.id) does not match its file name")
        }
        guard proposal.bottle == bottle else {
            throw .malformedFile(path: path(), reason: "it belongs to bottle \(proposal.bottle), not \(bottle)")
        }
        if let problem = proposal.shapeProblem() { throw .malformedFile(path: path(), reason: problem) }
        return (proposal, SHA256Hex.of(data), identity)
    }

    /// Reads `<id>.decision.json` in `folder` through the same guards.
    ///
    /// On the host (``sealRoot``), the decision's ``Decision/origin`` is
    /// judged by the key, and a forged one is set aside
    /// (``DecisionSeal/setAside(_:claimed:unreadable:named:in:bottle:id:tool:archived:)``) before
    /// it is returned, marked ``DecisionOrigin/forged``: callers that decide
    /// or apply skip it.
    func readDecision(_ id: ProposalID, in folder: QueueDirectory?) throws(QueueError) -> Decision? {
        let name = id.rawValue + QueueLayout.decisionSuffix
        guard let folder, let data = try folder.read(name) else { return nil }
        func path() -> String { folder.path.appending(name).string }
        var decision: Decision
        do throws(QueueError) {
            decision = try QueueFormat.decode(Decision.self, from: data, path: path())
            guard decision.id == id else {
                throw .malformedFile(path: path(), reason: "its id \(decision.id) does not match its file name")
            }
            if decision.status == .modified, decision.finalFile == nil {
                throw .malformedFile(path: path(), reason: "a modified decision has no final_file")
            }
            if let problem = decision.shapeProblem() { throw .malformedFile(path: path(), reason: problem) }
        } catch {
            // On the host, a regular file under a decision's name that does not even
            // read as one was not made by the host either: set aside like a forgery,
            // so it cannot hold the name and keep the operator from deciding.
            // (A decision of a newer queue format, or a read that failed, is not garbage: still an error.)
            switch error {
            case .unsupportedFormat, .io: throw error
            default: break
            }
            guard let sealRoot else { throw error }
            try DecisionSeal.of(root: sealRoot).setAside(
                data, claimed: nil, unreadable: error.description, named: name, in: folder, bottle: bottle, id: id,
                tool: (try? readProposal(id, in: folder))?.proposal.tool,
                archived: folder.path.lastComponent?.string == QueueLayout.archiveName)
            return nil
        }
        if let sealRoot {
            let seal = try DecisionSeal.of(root: sealRoot)
            decision.origin = seal.origin(of: data, decision: decision, bottle: bottle)
            if decision.origin == .forged {
                let archived = folder.path.lastComponent?.string == QueueLayout.archiveName
                // The proposal may be in the other folder (archived before its decision, or put back live).
                let other = try? (archived ? openLive() : openLive()?.subdirectory(QueueLayout.archiveName))
                let tool = ((try? readProposal(id, in: folder)) ?? (try? readProposal(id, in: other)))?.proposal.tool
                seal.setAside(
                    data, claimed: decision, named: name, in: folder, bottle: bottle, id: id, tool: tool,
                    archived: archived)
                // A replay of an older version the host sealed: the host's latest one counts, and is put back.
                if let copy = seal.hostCopy(of: id, bottle: bottle),
                    var latest = try? QueueFormat.decode(Decision.self, from: copy, path: name),
                    latest.id == id, seal.origin(of: copy, decision: latest, bottle: bottle) == .host
                {
                    _ = try? AtomicFile.create(copy, named: name, in: folder.directory)
                    latest.origin = .host
                    return latest
                }
            }
        }
        return decision
    }

    /// `decision` and the bytes to write for it: sealed on the host, plain in the sidecar.
    private func sealedForWriting(_ decision: Decision) throws(QueueError) -> (decision: Decision, data: Data) {
        guard let sealRoot else { return (decision, try encode(decision)) }
        return try DecisionSeal.of(root: sealRoot).sealed(decision, bottle: bottle)
    }

    /// Fills in ``QueueEntry/forgedDecision`` of an entry with no decision
    /// that counts from the forged ones set aside for it, so every reader
    /// shows that one was there.
    private func noteForgeries(in entry: inout QueueEntry) throws(QueueError) {
        if let decision = entry.decision, !decision.origin.counts {
            entry.forgedDecision = decision
            entry.decision = nil
        }
        guard entry.decision == nil, entry.forgedDecision == nil, let sealRoot else { return }
        entry.forgedDecision = try DecisionSeal.of(root: sealRoot).setAside(of: entry.proposal.id, bottle: bottle).last
    }
}
