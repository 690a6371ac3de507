import Apply
import ArgumentParser
import Foundation
import Queue
import SidecarCommandLine

/// What the operator commands share: finding a proposal by id, reading the
/// bottle's current file, and turning queue and apply errors into the exit
/// statuses PRODUCT.md fixes (3 no such proposal, 4 already decided).
struct ProposalLookup {
    let locations: HostLocationOptions
    /// The engine the default reload actions call (`--engine`).
    var engine: ContainerEngine = .resolve()

    var root: QueueRoot { QueueRoot(locations.queueRoot) }
    var applier: Applier {
        Applier(
            configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: engine,
            logger: ApplyOptions.commandLogger)
    }

    /// The proposal `text` names and its bottle's queue, read once: what is
    /// shown, checked and decided all comes from this one read. Exits 3 when
    /// there is none, 5 when `expectedSHA256` is given and the proposal file
    /// read does not hash to it (it is not the proposal the caller reviewed).
    func find(_ text: String, expectedSHA256: String? = nil) throws -> (entry: QueueEntry, queue: BottleQueue) {
        try find(text, expectedSHA256: expectedSHA256, bindToShown: false)
    }

    /// ``find(_:expectedSHA256:)`` for a decision: without `--expect-sha256`,
    /// the digest `show` last displayed for the proposal (``ReviewRecord``)
    /// is expected instead, so the file decided is the one the operator saw.
    func findForDecision(_ text: String, expectedSHA256: String?) throws -> (entry: QueueEntry, queue: BottleQueue) {
        try find(text, expectedSHA256: expectedSHA256, bindToShown: true)
    }

    private func find(_ text: String, expectedSHA256: String?, bindToShown: Bool) throws
        -> (entry: QueueEntry, queue: BottleQueue)
    {
        let found: (entry: QueueEntry, queue: BottleQueue)
        do throws(QueueError) {
            let id = try ProposalID(text)
            let queue = try root.locate(id)
            found = (try queue.entry(id), queue)
        } catch {
            switch error {
            case .invalidProposalID, .noSuchProposal: throw Failure.notFound(error.description)
            default: throw Failure.failed(error.description)
            }
        }
        let id = found.entry.proposal.id
        if let expectedSHA256, found.entry.proposalSHA256 != expectedSHA256.lowercased() {
            throw Failure.changed(
                "proposal \(id) is not the one reviewed: its file hashes to "
                    + "\(found.entry.proposalSHA256 ?? "nothing"), not \(Escaped(expectedSHA256)); nothing was decided: "
                    + "run `show \(id)` again")
        }
        if expectedSHA256 == nil, bindToShown, let shown = ReviewRecord(queueRoot: locations.queueRoot).shown(id),
            found.entry.proposalSHA256 != shown
        {
            throw Failure.changed(
                "proposal \(id) changed in the queue since `show` displayed it (shown sha256 \(shown.prefix(12)), "
                    + "now \(found.entry.proposalSHA256?.prefix(12) ?? "unreadable")); nothing was decided: "
                    + "run `show \(id)` again")
        }
        return found
    }

    /// A decision on `entry`, bound to the proposal file's bytes as read.
    static func decision(
        on entry: QueueEntry, _ status: DecisionStatus, notes: String, finalFile: String? = nil, answer: String? = nil
    ) -> Decision {
        Decision(
            id: entry.proposal.id, status: status, notes: notes, finalFile: finalFile,
            decidedBy: OperatorName.current, proposalSHA256: entry.proposalSHA256, answer: answer)
    }

    /// The bottle's current file for `proposal` (`nil`: none).
    func currentFile(for proposal: Proposal) -> String? {
        try? ConfigRoot(locations.configRoot).current(proposal.tool.configFile, for: proposal.bottle)
    }

    /// Refuses a proposal that already has a decision (exit 4).
    func requirePending(_ entry: QueueEntry) throws {
        if let decision = entry.decision {
            if decision.status.isApproval, decision.apply?.state == .failed {
                throw Failure.alreadyDecided(
                    "proposal \(entry.proposal.id) is already \(decision.status.rawValue) (by \(Escaped(decision.decidedBy))), "
                        + "not applied: once the cause is fixed, run `bottle-supervise apply \(entry.proposal.id)` to apply it again")
            }
            throw Failure.alreadyDecided(
                "proposal \(entry.proposal.id) is already \(decision.status.rawValue) (by \(Escaped(decision.decidedBy)))"
            )
        }
    }

    /// Runs a decision, mapping the queue's and the apply step's errors to exit statuses.
    func deciding<Decided>(_ body: () async throws -> Decided) async throws -> Decided {
        do {
            return try await body()
        } catch let error as QueueError {
            if case .alreadyDecided(let id, let status) = error {
                throw Failure.alreadyDecided(
                    "proposal \(id) is already \(status.rawValue): another decision won; nothing was changed")
            }
            throw Failure.failed(error.description)
        } catch let error as ApplyError {
            if case .proposalChanged = error { throw Failure.changed(error.description) }
            throw Failure.failed(error.description)
        }
    }

    /// Prints what happened to a decision, for the operator.
    static func report(_ decision: Decision, of proposal: Proposal) {
        reported(decision, of: proposal)
    }

    /// Prints what happened, and forgets what `show` displayed for the proposal, now decided.
    /// - Throws: a failure (1) when the apply did not take: standard output has
    ///   said so already; standard error gets the reload command's output, where its cause is.
    func report(_ decision: Decision, of proposal: Proposal) throws(Failure) {
        ReviewRecord(queueRoot: locations.queueRoot).forget(proposal.id)
        Self.reported(decision, of: proposal)
        if let apply = decision.apply, apply.state == .failed {
            throw .failed(
                apply.outputTail.map { "nothing was applied; the reload's output ended with:\n\($0)" }
                    ?? "nothing was applied")
        }
    }

    private static func reported(_ decision: Decision, of proposal: Proposal) {
        var line = "\(decision.status.rawValue) \(proposal.id) (\(proposal.tool.rawValue) for \(proposal.bottle))"
        if let apply = decision.apply { line += ": \(Escaped(apply.summary))" }
        if let expiresAt = decision.expiresAt, decision.apply?.state == .applied {
            line += "\ngrant \(proposal.id) ends at \(Timestamp.format(expiresAt)) "
                + "(in \(GrantDuration.left(until: expiresAt, now: Date()))); `revoke` ends it now, `extend` lengthens it"
        }
        print(line)
    }
}

/// Whether to colour output: only on a terminal, and never with `NO_COLOR` set.
func useColor() -> Bool {
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}
