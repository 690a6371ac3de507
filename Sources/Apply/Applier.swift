import FileAccess
import Foundation
import Logging
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns an operator's decision into a running config: the one place the
/// console and the CLI go through to approve, modify or reject.
///
/// An approval is applied in a fixed order, so that the waiting agent is
/// told only what really happened:
/// 1. conflict check — the bottle's file must still be the one the proposal
///    was made against (else ``ApplyError/conflict(current:expectedSHA256:actualSHA256:)``,
///    unless forced);
/// 2. claim — the decision is written with an apply state of `pending`
///    through the queue's exactly-one rule (a losing operator gets
///    ``QueueError/alreadyDecided(_:status:)`` and nothing is written);
/// 3. write — the final file replaces the bottle's file atomically, the
///    previous version kept in the bottle's history;
/// 4. reload — the bottle's reload action runs; if it fails or times out the
///    previous file is put back and the outcome says "approved, not applied";
/// 5. record — the outcome is written into the decision, which answers the
///    waiting agent, and into the audit log.
public struct Applier: Sendable {
    /// Where the bottles' config directories are.
    public let configRoot: ConfigRoot
    /// Where decisions, applies and rollbacks are recorded.
    public let auditLog: AuditLog
    /// The host's record of time-boxed grants, beside the audit log.
    public let grantLedger: GrantLedger
    /// The queue root (the agent's decision is updated when a grant is extended or revoked).
    public let queueRootPath: FilePath
    /// The engine the default reload actions call.
    public let engine: ContainerEngine
    /// Who is recorded as having applied or rolled back.
    public let operatorName: String
    /// Runs the engine's commands for a container replacement (a fake engine in tests).
    let engineRunner: any EngineCommandRunner
    /// The time source of a replacement's waits.
    let replacementClock: any ReplacementClock
    let logger: Logger

    /// An applier over `configRoot` that audits into `<queueRoot>/audit.log`.
    public init(
        configRoot: FilePath, queueRoot: FilePath, engine: ContainerEngine = .resolve(),
        operatorName: String = OperatorName.current, logger: Logger = Logger(label: "bottle-supervise.apply"),
        engineRunner: any EngineCommandRunner = ProcessEngineRunner(),
        replacementClock: any ReplacementClock = SystemReplacementClock()
    ) {
        self.configRoot = ConfigRoot(configRoot)
        self.auditLog = AuditLog(queueRoot: queueRoot)
        self.grantLedger = GrantLedger(queueRoot: queueRoot)
        self.queueRootPath = queueRoot
        self.engine = engine
        self.operatorName = operatorName
        self.logger = logger
        self.engineRunner = engineRunner
        self.replacementClock = replacementClock
    }

    // MARK: - Approve and modify

    /// Applies an approval (`approved` or `modified`) of `proposal`, in the
    /// order above.
    ///
    /// This is also where a grant is made: `grant` says how long the approval
    /// lasts (``GrantRequest``; by default what the bottle's `supervise.toml`
    /// sets, permanent when it sets nothing). A time-boxed approval gets
    /// `expires_at` in its decision and a record in the ``GrantLedger``
    /// holding the change it made; a permanent one releases, from live grants
    /// of the same file, whatever it adds over the file it replaces, so that
    /// survives their end. Every way of deciding — the commands, the TUI, the
    /// web console, a standing rule — comes through here, so this is also
    /// where a proposal reusing a decided id is refused as a replay.
    /// - Parameters:
    ///   - decision: the operator's decision, with `apply` unset.
    ///   - force: apply even though the bottle's file changed since the proposal.
    ///   - grant: how long the approval lasts.
    ///   - now: the time the grant's end is counted from.
    /// - Returns: the decision as recorded, carrying the apply outcome.
    /// - Throws: ``ApplyError`` before anything is written (conflict, bad
    ///   `supervise.toml`, not an approval, a grant refused); ``QueueError`` from the queue
    ///   (``QueueError/alreadyDecided(_:status:)`` when another operator won).
    public func apply(
        decision: Decision, proposal: Proposal, queue: BottleQueue, force: Bool = false,
        grant: GrantRequest = .asConfigured, now: Date = Date()
    ) async throws -> Decision {
        guard decision.status.isApproval else { throw ApplyError.notAnApproval(decision.status) }
        guard decision.id == proposal.id, proposal.bottle == queue.bottle else {
            throw ApplyError.mismatch(
                "decision \(decision.id) does not belong to proposal \(proposal.id) of bottle \(queue.bottle)")
        }
        guard let approved = decision.approvedFile(of: proposal) else {
            throw ApplyError.mismatch("a modified decision needs its final file")
        }
        guard let reviewed = decision.proposalSHA256 else {
            throw ApplyError.proposalChanged(proposal.id, reviewed: nil, now: try queue.liveProposalSHA256(proposal.id))
        }
        // The host checks the content itself: the sidecar that wrote the file is not trusted to have.
        if let problem = proposal.shapeProblem() { throw ApplyError.invalidProposal(proposal.id, reason: problem) }
        if SHA256Hex.of(proposal.proposedFile) != proposal.proposedFileSHA256 {
            throw ApplyError.invalidProposal(
                proposal.id, reason: "proposed_file_sha256 does not match the proposed file")
        }
        let bottle = proposal.bottle
        let file = proposal.tool.configFile
        let settings = try ReloadSettings.load(from: configRoot.settingsPath(for: bottle))
        let target = configRoot.path(of: file, for: bottle)
        let action = settings.action(
            for: file, bottle: bottle, directory: configRoot.directory(of: bottle), engine: engine)
        let duration = try grant.resolve(for: file, bottle: bottle, limits: settings.grants[file])
        // A ledger that cannot be read must stop a grant before anything is written: a grant
        // the ledger does not hold would never end.
        if duration != nil { _ = try grantLedger.grants() }

        let lock = try await BottleLock.acquire(configRoot.directory(of: bottle))
        defer { withExtendedLifetime(lock) {} }

        // Another operator who already won gets "already decided", not a conflict with their own write.
        if let existing = try queue.decision(proposal.id) {
            throw QueueError.alreadyDecided(proposal.id, status: existing.status)
        }
        // An id decided before (its decision file deleted since) is a replay, whoever decides.
        try refuseReplay(of: proposal)

        // 1. Conflict check.
        let previous = try AtomicFile.read(target)
        let previousSHA = previous.map { SHA256Hex.of($0) }
        if previousSHA != proposal.currentFileSHA256, !force {
            throw ApplyError.conflict(
                current: previous.map { String(decoding: $0, as: UTF8.self) },
                expectedSHA256: proposal.currentFileSHA256, actualSHA256: previousSHA)
        }

        // The file applied is the one reviewed: the validator the sidecar runs,
        // run again here, and the queue's file still the bytes the decision is bound to.
        do throws(ValidationError) {
            try ProposedFileValidator.validate(
                approved, for: proposal.tool, current: previous.map { String(decoding: $0, as: UTF8.self) })
        } catch {
            throw ApplyError.invalidProposal(proposal.id, reason: "the \(file.fileName) does not validate: \(error)")
        }
        let liveSHA = try queue.liveProposalSHA256(proposal.id)
        guard liveSHA == reviewed else {
            throw ApplyError.proposalChanged(proposal.id, reviewed: reviewed, now: liveSHA)
        }

        // What a grant holds: what the approval adds or changes over the file the proposal was
        // made against. What a permanent approval releases from live grants: what it adds over the
        // file it replaces — the one the operator saw diffed — never the base the proposal claims
        // (with --force and a stale base, that would release granted lines the operator never saw).
        let previousText = previous.map { String(decoding: $0, as: UTF8.self) }
        let change = GrantHoldings.change(
            of: file, from: duration == nil ? previousText : baseText(of: proposal, previous: previous), to: approved)

        // 2. Claim through the exactly-one rule.
        var claimed = decision
        claimed.apply = ApplyOutcome(state: .pending, summary: "applying")
        claimed.expiresAt = duration.map { Timestamp.normalized(now.addingTimeInterval($0.timeInterval)) }
        try queue.decide(claimed)
        let newData = Data(approved.utf8)
        let newSHA = SHA256Hex.of(newData)
        audit(
            AuditRecord(
                event: .decision, by: decision.decidedBy, bottle: bottle, file: file, tool: proposal.tool,
                id: proposal.id, status: decision.status.rawValue, oldSHA256: previousSHA, newSHA256: newSHA))

        // 5. Record the outcome: this answers the waiting agent.
        func finish(_ outcome: ApplyOutcome) throws -> Decision {
            try queue.recordApply(outcome, for: proposal.id)
            audit(
                AuditRecord(
                    event: .apply, by: decision.decidedBy, bottle: bottle, file: file, tool: proposal.tool,
                    id: proposal.id, status: outcome.state.rawValue, oldSHA256: previousSHA, newSHA256: newSHA,
                    apply: outcome))
            var final = claimed
            final.apply = outcome
            return try queue.decision(proposal.id) ?? final
        }

        // The grant is in the ledger before the file is written: a crash in between leaves a
        // grant whose end removes only what is there, never an unrecorded one that never ends.
        var recorded: Grant?
        if let expiresAt = claimed.expiresAt {
            do {
                recorded = try recordGrant(
                    change, of: proposal, file: file, before: previous, grantedBy: decision.decidedBy,
                    grantedAt: now, expiresAt: expiresAt)
            } catch {
                return try finish(
                    ApplyOutcome(
                        state: .failed, summary: "approved, not applied: could not record the grant: \(error)",
                        previousSHA256: previousSHA, newSHA256: newSHA))
            }
        }

        // 3–4. Write, reload, put back on failure.
        let outcome = await writeAndReload(
            newData, to: target, previous: previous, bottle: bottle, file: file, action: action)

        // A grant whose change did not take holds nothing; a permanent approval releases
        // what it adds over the file it replaced from the live grants, so that outlives them.
        settleGrants(after: outcome, change: change, of: proposal, file: file, recorded: recorded)

        return try finish(outcome)
    }

    // MARK: - Reject

    /// Records a rejection (notes required) through the exactly-one rule, and audits it.
    /// - Throws: ``QueueError/alreadyDecided(_:status:)`` when another decision won.
    public func reject(_ proposal: Proposal, notes: String, queue: BottleQueue, decidedBy: String? = nil)
        throws -> Decision
    {
        let decision = Decision(
            id: proposal.id, status: .rejected, notes: notes, decidedBy: decidedBy ?? operatorName)
        try record(decision, of: proposal, queue: queue)
        return decision
    }

    /// Records a decision that applies nothing (a rejection) and audits it.
    public func record(_ decision: Decision, of proposal: Proposal, queue: BottleQueue) throws {
        guard !decision.status.isApproval else { throw ApplyError.mismatch("an approval must go through apply") }
        if let reviewed = decision.proposalSHA256 {
            let now = try queue.liveProposalSHA256(proposal.id)
            if let now, now != reviewed { throw ApplyError.proposalChanged(proposal.id, reviewed: reviewed, now: now) }
        }
        try queue.decide(decision)
        let file = proposal.tool.configFile
        audit(
            AuditRecord(
                event: .decision, by: decision.decidedBy, bottle: proposal.bottle, file: file, tool: proposal.tool,
                id: proposal.id, status: decision.status.rawValue,
                oldSHA256: try? configRoot.currentSHA256(file, for: proposal.bottle),
                newSHA256: SHA256Hex.of(proposal.proposedFile)))
    }

    // MARK: - Recovery

    /// Finishes applies that a crash cut off: a decision still marked
    /// `pending` whose bottle is not locked by a running apply becomes
    /// `failed` ("apply interrupted; check the bottle's file"), so the
    /// waiting agent is answered instead of held forever.
    /// - Returns: the ids finished.
    @discardableResult
    public func recoverInterrupted(queueRoot: FilePath) throws -> [ProposalID] {
        try recoverInterruptedOutcomes(queueRoot: queueRoot).map(\.id)
    }

    /// ``recoverInterrupted(queueRoot:)``, with the outcome recorded for each
    /// apply: an interrupted container replacement may have been finished
    /// (`applied`) as well as undone, so a command tells the operator which.
    /// - Parameter decisionsIn: the bottles whose live directory a caller
    ///   just listed and found a decision file in (`list`'s listing sees
    ///   every name): only these can have an apply still pending, so the
    ///   others are not listed again. `nil`: look in every bottle. An
    ///   interrupted container replacement is looked for in every bottle
    ///   either way (its journal is in the config root).
    public func recoverInterruptedOutcomes(queueRoot: FilePath, decisionsIn: Set<BottleSlug>? = nil) throws
        -> [(id: ProposalID, outcome: ApplyOutcome)]
    {
        let root = QueueRoot(queueRoot)
        var finished: [(id: ProposalID, outcome: ApplyOutcome)] = []
        let bottles = try root.bottles()
        // Every host command starts here, so the look (a listing per bottle) runs on every core.
        // Files that cannot be read are the operator's to see (`list` names them); they must not stop recovery.
        let looked = decisionsIn.map { decided in bottles.filter { decided.contains($0) } } ?? bottles
        let applying = Dictionary(uniqueKeysWithValues: zip(looked, root.applyingEntries(of: looked)))
        for bottle in bottles {
            let stuck = applying[bottle] ?? []
            let queue = root.queue(for: bottle)
            let directory = configRoot.directory(of: bottle)
            let journal = ReplacementJournal.path(in: directory)
            let replacing = access(journal.string, F_OK) == 0
            guard !stuck.isEmpty || replacing else { continue }
            // A held lock is a running apply: its decisions are not interrupted. (No lock
            // file: no apply is running, since an apply takes the lock before it claims.)
            let lock = BottleLock.tryAcquire(directory)
            if lock == nil, BottleLock.isHeld(directory) { continue }
            defer { withExtendedLifetime(lock) {} }
            // A container replacement cut off midway: bring back a running bottle first.
            let recovery = replacing ? ContainerReplacement.recover(journalPath: journal, runner: engineRunner) : nil
            if let recovery {
                logger.warning(
                    "finished an interrupted container replacement",
                    metadata: ["bottle": "\(bottle)", "outcome": "\(recovery.summary)"])
            }
            for entry in stuck {
                // Read again under the lock: the apply seen pending may have finished meanwhile.
                // Only the host's own latest record of the decision says whether it is still pending
                // (a replayed older version is set aside as it is read: ``DecisionSeal``).
                guard let decision = try? queue.decision(entry.proposal.id), decision.origin.isHostMade,
                    decision.apply?.state == .pending
                else { continue }
                let file = entry.proposal.tool.configFile
                let current = try? configRoot.currentSHA256(file, for: bottle)
                let outcome = interruptedOutcome(
                    of: entry.proposal, decision: decision, file: file, current: current,
                    recovery: file == .dockerfile ? recovery : nil)
                try queue.recordApply(outcome, for: entry.proposal.id)
                audit(
                    AuditRecord(
                        event: .apply, by: operatorName, bottle: bottle, file: file, tool: entry.proposal.tool,
                        id: entry.proposal.id, status: outcome.state.rawValue, oldSHA256: current,
                        newSHA256: decision.approvedFile(of: entry.proposal).map { SHA256Hex.of($0) },
                        apply: outcome))
                finished.append((entry.proposal.id, outcome))
            }
        }
        return finished
    }

    /// The outcome recorded for an apply a crash cut off. After a container
    /// replacement that recovery undid, the previous Dockerfile is put back
    /// (as a failed reload does), so file and container agree; after one it
    /// finished, the apply did happen.
    private func interruptedOutcome(
        of proposal: Proposal, decision: Decision, file: ConfigFile, current: String?,
        recovery: ContainerReplacement.Recovery?
    ) -> ApplyOutcome {
        let newSHA = decision.approvedFile(of: proposal).map { SHA256Hex.of(Data($0.utf8)) }
        switch recovery {
        case .keptNew(let text)?:
            return ApplyOutcome(
                state: .applied, summary: "applied: wrote \(file.fileName) and, after an interruption, \(text)",
                newSHA256: current)
        case .restoredOld(let text)?, .nothingLeft(let text)?:
            var summary = "approved, not applied: apply interrupted; \(text)"
            let history = configRoot.history(of: file, for: proposal.bottle)
            if current != nil, current == newSHA, let version = try? history.newest() {
                do {
                    try replace(configRoot.path(of: file, for: proposal.bottle), with: version.content)
                    try history.remove(version)
                    summary += "; the previous \(file.fileName) was put back"
                    return ApplyOutcome(
                        state: .failed, summary: summary, previousSHA256: version.content.map { SHA256Hex.of($0) },
                        newSHA256: newSHA)
                } catch {
                    summary += "; putting the previous \(file.fileName) back failed: \(error)"
                }
            }
            return ApplyOutcome(state: .failed, summary: summary + "; check the bottle's file", previousSHA256: current)
        case .failed(let text)?:
            return ApplyOutcome(
                state: .failed, summary: "apply interrupted; \(text); check the bottle's file", previousSHA256: current)
        case nil:
            return ApplyOutcome(
                state: .failed, summary: "apply interrupted; check the bottle's file", previousSHA256: current)
        }
    }

    // MARK: - Rollback

    /// Puts back the newest saved version of `file` of `bottle` and reloads.
    ///
    /// The current file is saved into the history first, so a rollback can
    /// itself be rolled back; the version restored leaves the history. If the
    /// reload fails, the file as it was before the rollback is put back.
    /// - Throws: ``ApplyError/nothingToRollBack(bottle:file:)`` when there is no saved version.
    public func rollback(bottle: BottleSlug, file: ConfigFile) async throws -> ApplyOutcome {
        let settings = try ReloadSettings.load(from: configRoot.settingsPath(for: bottle))
        let action = settings.action(
            for: file, bottle: bottle, directory: configRoot.directory(of: bottle), engine: engine)
        let lock = try await BottleLock.acquire(configRoot.directory(of: bottle))
        defer { withExtendedLifetime(lock) {} }

        let history = configRoot.history(of: file, for: bottle)
        guard let version = try history.newest() else { throw ApplyError.nothingToRollBack(bottle: bottle, file: file) }
        let target = configRoot.path(of: file, for: bottle)
        let current = try AtomicFile.read(target)
        let currentSHA = current.map { SHA256Hex.of($0) }
        let restoredSHA = version.content.map { SHA256Hex.of($0) }

        let saved = try history.save(current)
        var outcome: ApplyOutcome
        do {
            try replace(target, with: version.content)
            try history.remove(version)
            outcome = await reload(action, bottle: bottle, file: file, target: target)
            if outcome.state == .failed {
                try replace(target, with: current)
                try history.remove(saved)
                _ = try? AtomicFile.write(version.content ?? Data(), to: version.path, mode: 0o600)
                outcome.summary = "not rolled back: " + outcome.summary
            } else {
                outcome.summary = "rolled back \(file.fileName) to \(version.name) and " + outcome.summary
            }
        } catch {
            try? replace(target, with: current)
            try? history.remove(saved)
            outcome = ApplyOutcome(state: .failed, summary: "not rolled back: \(error)")
        }
        outcome.previousSHA256 = currentSHA
        outcome.newSHA256 = outcome.state == .applied ? restoredSHA : currentSHA
        audit(
            AuditRecord(
                event: .rollback, by: operatorName, bottle: bottle, file: file, tool: nil, id: nil,
                status: outcome.state.rawValue, oldSHA256: currentSHA, newSHA256: restoredSHA, apply: outcome))
        return outcome
    }

    // MARK: - Internals

    /// Writes `data` over `target` (the previous version saved in the
    /// history), reloads, and puts the previous file back if that fails.
    /// - Parameters:
    ///   - applied: what the summary starts with when the reload ran.
    ///   - notApplied: what it starts with when writing or reloading failed.
    func writeAndReload(
        _ data: Data, to target: FilePath, previous: Data?, bottle: BottleSlug, file: ConfigFile,
        action: ReloadAction, applied: String? = nil, notApplied: String = "approved, not applied: "
    ) async -> ApplyOutcome {
        let previousSHA = previous.map { SHA256Hex.of($0) }
        let newSHA = SHA256Hex.of(data)
        let history = configRoot.history(of: file, for: bottle)
        let saved: ConfigHistory.Version
        do {
            saved = try history.save(previous)
            try AtomicFile.write(data, to: target)
        } catch {
            return ApplyOutcome(
                state: .failed, summary: notApplied + "could not write \(file.fileName): \(error)",
                previousSHA256: previousSHA, newSHA256: newSHA)
        }
        var outcome = await reload(action, bottle: bottle, file: file, target: target)
        outcome.previousSHA256 = previousSHA
        outcome.newSHA256 = newSHA
        if outcome.state == .applied {
            outcome.summary = (applied ?? "applied: wrote \(file.fileName) and ") + outcome.summary
        } else {
            outcome.summary = notApplied + outcome.summary
            do {
                try replace(target, with: previous)
                try history.remove(saved)
            } catch {
                outcome.summary += "; putting the previous file back failed too: \(error)"
            }
            logger.warning(
                "apply failed; previous file restored",
                metadata: ["bottle": "\(bottle)", "file": "\(file.fileName)", "reason": "\(outcome.summary)"])
        }
        return outcome
    }

    /// Runs every command of `action`, stopping at the first failure; the
    /// summary says what ran (success) or why it failed, for the caller to prefix.
    func reload(_ action: ReloadAction, bottle: BottleSlug, file: ConfigFile, target: FilePath) async
        -> ApplyOutcome
    {
        if let replacementTarget = action.resolvedReplacement(bottle: bottle, file: target) {
            let replacement = ContainerReplacement(
                engine: engine.program, target: replacementTarget, runner: engineRunner, clock: replacementClock,
                journalPath: ReplacementJournal.path(in: configRoot.directory(of: bottle)),
                buildTimeout: action.timeout)
            // The sequence blocks on engine processes for minutes: off Swift's cooperative pool.
            let done = await BlockingWork.run("container replacement") { replacement.run() }
            return ApplyOutcome(
                state: done.succeeded ? .applied : .failed, summary: done.summary, command: done.command,
                exitStatus: done.exitStatus, outputTail: done.outputTail)
        }
        var outputs: [String] = []
        var last: ReloadRun?
        for argv in action.resolved(bottle: bottle, file: target) {
            let run = await ReloadRunner.run(argv, timeout: action.timeout)
            last = run
            if !run.outputTail.isEmpty { outputs.append(run.outputTail) }
            if let reason = run.failureReason {
                return ApplyOutcome(
                    state: .failed, summary: reason, command: run.command,
                    exitStatus: run.exitStatus, outputTail: OutputTail.clip(outputs.joined(separator: "\n")))
            }
        }
        let commands = action.resolved(bottle: bottle, file: target).map { $0.joined(separator: " ") }
        return ApplyOutcome(
            state: .applied,
            summary: "ran \(commands.joined(separator: ", then "))",
            command: last?.command, exitStatus: last?.exitStatus,
            outputTail: OutputTail.clip(outputs.joined(separator: "\n")))
    }

    /// Makes `target` hold `content`, or removes it when `content` is `nil`.
    func replace(_ target: FilePath, with content: Data?) throws(FileAccessError) {
        if let content {
            try AtomicFile.write(content, to: target)
        } else if unlink(target.string) != 0, errno != ENOENT {
            throw .io(operation: "remove", path: target.string, errno: errno)
        }
    }

    /// Appends to the audit log; a failure is logged, never allowed to undo a decision already taken.
    func audit(_ record: AuditRecord) {
        do { try auditLog.append(record) } catch {
            logger.error("could not append to the audit log", metadata: ["error": "\(error)"])
        }
    }
}
