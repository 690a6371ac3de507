import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Time-boxed grants on the apply path: recording them when an approval
/// is applied, and ending them (expiry, revoke) the way a decision is
/// applied — under the bottle's lock, the file written with its previous
/// version kept in the history, the reload run, an audit record — and
/// lengthening them.
extension Applier {
    /// What ending one grant did.
    public struct GrantEnd: Sendable, Equatable {
        /// The grant, as the ledger now records it.
        public var grant: Grant
        /// What was written and reloaded (`applied`), or why not (`failed`: the grant stays live).
        public var outcome: ApplyOutcome
    }

    /// How often a grant whose end failed (its reload failed) is tried again.
    public static let endRetryInterval: TimeInterval = 30

    // MARK: - Making a grant

    /// The text of the file `proposal` was made against: the file before the
    /// apply when it still hashes the same, else the version in the history
    /// that does, else (unknown) the file before the apply.
    func baseText(of proposal: Proposal, previous: Data?) -> String? {
        guard let sha = proposal.currentFileSHA256 else { return nil }
        if let previous, SHA256Hex.of(previous) == sha { return String(decoding: previous, as: UTF8.self) }
        let history = configRoot.history(of: proposal.tool.configFile, for: proposal.bottle)
        if let version = try? history.version(withSHA256: sha), let content = version.content {
            return String(decoding: content, as: UTF8.self)
        }
        return previous.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Adds the grant an approval makes to the ledger: the change, less
    /// what was already in the file for good.
    ///
    /// A grant is keyed on its bottle and id. One already recorded under that
    /// key is never replaced — a proposal that reuses an id (the agent deleted
    /// the decision and wrote a new proposal file) would otherwise erase a
    /// live grant and make its access permanent — unless `replacingLive` (a
    /// re-run of this decision's own failed apply) and it is still live.
    /// - Returns: the grant as recorded.
    /// - Throws: ``ApplyError/replayedProposal(_:reason:)`` when the key is taken.
    @discardableResult
    func recordGrant(
        _ change: GrantHoldings, of proposal: Proposal, file: ConfigFile, before: Data?, grantedBy: String,
        grantedAt: Date, expiresAt: Date, replacingLive: Bool = false
    ) throws -> Grant {
        try grantLedger.update { grants in
            if let taken = grants.firstIndex(where: { $0.bottle == proposal.bottle && $0.id == proposal.id }) {
                guard replacingLive, grants[taken].isLive else {
                    throw ApplyError.replayedProposal(
                        proposal.id, reason: "the grant ledger already has a grant of that id for bottle \(proposal.bottle)")
                }
                grants.remove(at: taken)
            }
            let others = grants.filter { $0.isLive && $0.bottle == proposal.bottle && $0.file == file }
            let holdings = change.restricted(
                to: file, before: before.map { String(decoding: $0, as: UTF8.self) },
                heldByOthers: .union(others.map(\.holdings)))
            let grant = Grant(
                id: proposal.id, bottle: proposal.bottle, file: file, holdings: holdings, grantedBy: grantedBy,
                grantedAt: grantedAt, expiresAt: expiresAt)
            grants.append(grant)
            return grant
        }
    }

    /// After an apply: a failed time-boxed apply's grant goes (it changed
    /// nothing) — exactly the record this apply wrote (`recorded`), nothing
    /// else of that id; a permanent approval releases its change (`change`,
    /// what it added over the file it replaced) from the live grants of the same file.
    func settleGrants(
        after outcome: ApplyOutcome, change: GrantHoldings, of proposal: Proposal, file: ConfigFile, recorded: Grant?
    ) {
        do {
            if let recorded {
                guard outcome.state != .applied else { return }
                try grantLedger.update { grants in
                    grants.removeAll {
                        $0.isLive && $0.bottle == recorded.bottle && $0.id == recorded.id
                            && $0.grantedAt == recorded.grantedAt && $0.expiresAt == recorded.expiresAt
                    }
                }
            } else if outcome.state == .applied, !change.isEmpty {
                try grantLedger.update { grants in
                    for index in grants.indices
                    where grants[index].isLive && grants[index].bottle == proposal.bottle && grants[index].file == file {
                        grants[index].holdings = grants[index].holdings.releasing(change)
                    }
                }
            }
        } catch {
            logger.error(
                "could not update the grant ledger after an apply",
                metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
        }
    }

    /// Refuses a proposal whose id the host has already seen decided: a
    /// decision or an apply of it in the audit log, or a grant of it in the
    /// ledger, in any bottle. Proposal ids are unique by construction (time
    /// and 48 random bits); one seen again is the agent replaying an id after
    /// deleting its decision, and approving it would stand in for the first
    /// approval (its grant, its record). Run by ``apply(decision:proposal:queue:force:grant:now:)``
    /// under the bottle's lock, so every way of deciding gets it.
    /// - Throws: ``ApplyError/replayedProposal(_:reason:)``.
    func refuseReplay(of proposal: Proposal) throws {
        if let grant = try grantLedger.grants().first(where: { $0.id == proposal.id }) {
            throw ApplyError.replayedProposal(
                proposal.id, reason: "the grant ledger already has a grant of that id (bottle \(grant.bottle))")
        }
        let needle = Data(proposal.id.rawValue.utf8)
        var seen: AuditRecord?
        try auditLog.forEachLine { line in
            // Only a line that names the id is decoded: the log is read whole on every approval.
            guard seen == nil, let bytes = line.bytes, Self.contains(bytes, needle),
                case .success(let record) = AuditLog.decode(bytes), record.id == proposal.id,
                record.event != .forgedDecision
            else { return }
            seen = record
        }
        if let seen {
            throw ApplyError.replayedProposal(
                proposal.id,
                reason: "the audit log already records a \(seen.event.rawValue) of that id "
                    + "(bottle \(seen.bottle), \(Timestamp.format(seen.at)))")
        }
    }

    /// Whether `needle` (not empty) occurs in `bytes`: `memchr` for its first
    /// byte, `memcmp` for the rest, with no copy — the replay check runs it on
    /// every line of the audit log at every approval (a 100,000-line, 44 MB log
    /// took 0.27 s in a debug build, 0.15 s of it reading the lines).
    static func contains(_ bytes: Data, _ needle: Data) -> Bool {
        bytes.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { wanted in
                guard let base = haystack.baseAddress, let first = wanted.first, let pattern = wanted.baseAddress,
                    haystack.count >= wanted.count
                else { return false }
                var offset = 0
                let last = haystack.count - wanted.count
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + at, pattern, wanted.count) == 0 { return true }
                    offset = at + 1
                }
                return false
            }
        }
    }

    /// The live grant named `id` (in `bottle`, when given).
    /// - Throws: ``ApplyError/ambiguousGrant(_:bottles:)`` when live grants of
    ///   several bottles share the id and no bottle was given.
    func liveGrant(_ id: ProposalID, bottle: BottleSlug?) throws -> Grant? {
        let matching = try grantLedger.live().filter { $0.id == id && (bottle == nil || $0.bottle == bottle) }
        if matching.count > 1 { throw ApplyError.ambiguousGrant(id.rawValue, bottles: matching.map(\.bottle.rawValue)) }
        return matching.first
    }

    // MARK: - Ending grants

    /// Ends every live grant whose deadline has passed at `now` (a grant whose
    /// last end failed is tried again after ``endRetryInterval``). Run by
    /// `watch` every second and by every host command before it starts.
    /// - Parameter by: who is recorded as ending them (the process that noticed).
    /// - Returns: what each end did.
    public func endOverdueGrants(now: Date = Date(), by: String? = nil) async throws -> [GrantEnd] {
        let due = try grantLedger.live().filter { grant in
            grant.isOverdue(at: now)
                && (grant.endAttemptedAt.map { now.timeIntervalSince($0) >= Self.endRetryInterval } ?? true)
        }
        var ended: [GrantEnd] = []
        // Each end on its own: one grant that cannot be ended (its bottle's supervise.toml does not
        // parse, its lock cannot be taken) must not hold up every other bottle's expiry.
        for grant in due {
            do {
                if let end = try await endGrant(
                    grant.id, bottle: grant.bottle, reason: .expired, by: by ?? operatorName, now: now)
                {
                    ended.append(end)
                }
            } catch {
                ended.append(recordEndFailure(of: grant, error: "grant not expired: \(error)", now: now))
            }
        }
        return ended
    }

    /// Records in the ledger that ending `grant` failed before anything was
    /// written: it stays live, `grants` shows it (`!`), and it is tried again
    /// after ``endRetryInterval``.
    private func recordEndFailure(of grant: Grant, error: String, now: Date) -> GrantEnd {
        let recorded: Grant? = try? grantLedger.update { grants in
            guard let index = grants.firstIndex(where: { $0.bottle == grant.bottle && $0.id == grant.id && $0.isLive })
            else { return nil }
            grants[index].endError = error
            grants[index].endAttemptedAt = Timestamp.normalized(now)
            return grants[index]
        }
        logger.warning(
            "a grant could not be ended; it stays live and is tried again",
            metadata: ["grant": "\(grant.id)", "bottle": "\(grant.bottle)", "reason": "\(error)"])
        return GrantEnd(grant: recorded ?? grant, outcome: ApplyOutcome(state: .failed, summary: error))
    }

    /// When the next live grant ends, for a service's timer.
    public func nextGrantDeadline() -> Date? {
        (try? grantLedger.live())?.map(\.expiresAt).min()
    }

    /// Ends grant `id` (of `bottle`, when given) now (a revoke), whatever its deadline.
    /// - Throws: ``ApplyError/noSuchGrant(_:)`` when no live grant has that name;
    ///   ``ApplyError/ambiguousGrant(_:bottles:)`` when several bottles' do and no bottle is given.
    public func revokeGrant(_ id: ProposalID, bottle: BottleSlug? = nil, now: Date = Date()) async throws -> GrantEnd {
        guard let found = try liveGrant(id, bottle: bottle),
            let end = try await endGrant(id, bottle: found.bottle, reason: .revoked, by: operatorName, now: now)
        else {
            throw ApplyError.noSuchGrant(id.rawValue)
        }
        return end
    }

    /// Takes out of the bottle's file what grant `id` holds (``GrantRevert``),
    /// keeping what other live grants hold, through the apply path; records
    /// the end in the ledger, the audit log and the agent's decision.
    /// - Returns: `nil` when no live grant has that name (another process ended it).
    func endGrant(_ id: ProposalID, bottle: BottleSlug, reason: Grant.Ending.Reason, by: String, now: Date)
        async throws -> GrantEnd?
    {
        func isIt(_ grant: Grant) -> Bool { grant.isLive && grant.id == id && grant.bottle == bottle }
        guard let found = try grantLedger.live().first(where: isIt) else { return nil }
        let file = found.file
        let settings = try ReloadSettings.load(from: configRoot.settingsPath(for: bottle))
        let action = settings.action(
            for: file, bottle: bottle, directory: configRoot.directory(of: bottle), engine: engine)
        let lock = try await BottleLock.acquire(configRoot.directory(of: bottle))
        defer { withExtendedLifetime(lock) {} }

        // Read again under the lock: another process may have ended or extended it.
        let live = try grantLedger.live()
        guard let grant = live.first(where: isIt) else { return nil }
        if reason == .expired, !grant.isOverdue(at: now) { return nil }
        let others = GrantHoldings.union(
            live.filter { !isIt($0) && $0.bottle == bottle && $0.file == file }.map(\.holdings))
        let target = configRoot.path(of: file, for: bottle)
        let previous = try AtomicFile.read(target)
        let previousText = previous.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let previousSHA = previous.map { SHA256Hex.of($0) }
        let revert = GrantRevert.revert(previousText, of: file, removing: grant.holdings, keeping: others)
        let verb = reason == .expired ? "expired" : "revoked"

        var outcome: ApplyOutcome
        if !revert.changesFile {
            var summary = "grant \(verb): nothing to take out"
            if !revert.keptForOthers.isEmpty {
                summary += "; kept, another live grant holds them: " + revert.keptForOthers.joined(separator: ", ")
            }
            if !revert.alreadyGone.isEmpty {
                summary += "; already changed or gone: " + revert.alreadyGone.joined(separator: ", ")
            }
            outcome = ApplyOutcome(state: .applied, summary: summary, previousSHA256: previousSHA, newSHA256: previousSHA)
        } else {
            outcome = await writeRevert(
                revert, to: target, previous: previous, bottle: bottle, file: file, action: action, verb: verb)
        }

        let auditEvent: AuditRecord.Event = reason == .expired ? .expire : .revoke
        audit(
            AuditRecord(
                at: now, event: auditEvent, by: by, bottle: bottle, file: file, tool: file.tool, id: id,
                status: outcome.state.rawValue, oldSHA256: previousSHA, newSHA256: outcome.newSHA256, apply: outcome))

        let failed = outcome.state != .applied
        let recorded: Grant = try grantLedger.update { grants in
            guard let index = grants.firstIndex(where: isIt) else { return grant }
            if failed {
                grants[index].endError = outcome.summary
                grants[index].endAttemptedAt = Timestamp.normalized(now)
            } else {
                grants[index].endError = nil
                grants[index].ended = Grant.Ending(
                    reason: reason, at: Timestamp.normalized(now), by: by, summary: outcome.summary)
                // A later grant of the same file that changed a route this one put in now
                // holds the change from what was there before this one (GrantHoldings.chained).
                let ended = grants[index].holdings
                for other in grants.indices
                where other != index && grants[other].isLive && grants[other].bottle == bottle
                    && grants[other].file == file
                {
                    grants[other].holdings = grants[other].holdings.chained(after: ended)
                }
            }
            return grants[index]
        }
        if !failed, reason == .revoked {
            try? QueueRoot(queueRootPath).queue(for: bottle).recordGrantEnd(now, for: id)
        }
        if failed {
            logger.warning(
                "a grant could not be ended; it stays live and is tried again",
                metadata: ["grant": "\(id)", "bottle": "\(bottle)", "reason": "\(outcome.summary)"])
        }
        return GrantEnd(grant: recorded, outcome: outcome)
    }

    /// Writes a grant's revert and reloads, putting the previous file back if the reload fails.
    private func writeRevert(
        _ revert: GrantRevert.Result, to target: FilePath, previous: Data?, bottle: BottleSlug, file: ConfigFile,
        action: ReloadAction, verb: String
    ) async -> ApplyOutcome {
        let previousSHA = previous.map { SHA256Hex.of($0) }
        let data = Data(revert.text.utf8)
        let removed = revert.removed.joined(separator: ", ")
        // The file's own rules, as for a proposal; an empty allowlist is allowed here (the
        // grant held its only host), where the validator refuses an empty proposal.
        do throws(ValidationError) {
            switch file {
            case .allowlist: _ = try AllowlistDocument.parse(revert.text)
            case .routes: _ = try RoutesDocument.parse(revert.text)
            case .dockerfile: break
            }
        } catch {
            return ApplyOutcome(
                state: .failed,
                summary: "grant not \(verb): taking out \(removed) leaves a \(file.fileName) that does not validate: \(error)",
                previousSHA256: previousSHA)
        }
        var outcome = await writeAndReload(
            data, to: target, previous: previous, bottle: bottle, file: file, action: action,
            applied: "grant \(verb): took out \(removed) and ", notApplied: "grant not \(verb): ")
        if outcome.state == .applied, !revert.keptForOthers.isEmpty {
            outcome.summary += "; kept (another live grant holds them): " + revert.keptForOthers.joined(separator: ", ")
        }
        return outcome
    }

    // MARK: - Extending

    /// Lengthens live grant `id` to end `duration` from now, within the bottle's maximum.
    /// - Throws: ``ApplyError/noSuchGrant(_:)``; ``ApplyError/grantRefused(_:)`` past the maximum.
    /// - Throws: ``ApplyError/ambiguousGrant(_:bottles:)`` when several bottles' live grants share `id` and no bottle is given.
    public func extendGrant(_ id: ProposalID, bottle: BottleSlug? = nil, by duration: GrantDuration, now: Date = Date())
        async throws -> Grant
    {
        guard let found = try liveGrant(id, bottle: bottle) else {
            throw ApplyError.noSuchGrant(id.rawValue)
        }
        let settings = try ReloadSettings.load(from: configRoot.settingsPath(for: found.bottle))
        _ = try GrantRequest.lasting(duration).resolve(
            for: found.file, bottle: found.bottle, limits: settings.grants[found.file])
        let lock = try await BottleLock.acquire(configRoot.directory(of: found.bottle))
        defer { withExtendedLifetime(lock) {} }
        let expiresAt = Timestamp.normalized(now.addingTimeInterval(duration.timeInterval))
        let extended: Grant? = try grantLedger.update { grants in
            guard let index = grants.firstIndex(where: { $0.id == id && $0.bottle == found.bottle && $0.isLive })
            else { return nil }
            grants[index].expiresAt = expiresAt
            return grants[index]
        }
        guard let extended else { throw ApplyError.noSuchGrant(id.rawValue) }
        try? QueueRoot(queueRootPath).queue(for: found.bottle).recordGrantEnd(expiresAt, for: id)
        audit(
            AuditRecord(
                at: now, event: .extend, by: operatorName, bottle: found.bottle, file: found.file,
                tool: found.file.tool, id: id, status: "extended", oldSHA256: nil, newSHA256: nil,
                apply: ApplyOutcome(
                    state: .applied, summary: "grant extended by \(duration): ends \(Timestamp.format(expiresAt))")))
        return extended
    }
}
