import FileAccess
import Foundation
import Queue
import SystemPackage

/// Why an approved decision cannot be applied again, worded for the operator.
public enum ReapplyRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not an approval (rejected, withdrawn, expired) or not decided at all.
    case notApproved(ProposalID, DecisionStatus?)
    /// The apply took already: nothing to do.
    case alreadyApplied(ProposalID)
    /// An apply of it is running now (or a crash cut one off and no command has finished it yet).
    case inProgress(ProposalID)
    /// It was approved for a time, and that time is over: applied now, it would never end.
    case grantOver(ProposalID, expiresAt: Date)
    /// The approval is not one the host sealed (``DecisionOrigin/isHostMade``): an unsigned one is never applied again.
    case notSealed(ProposalID, DecisionOrigin)

    public var description: String {
        switch self {
        case .notApproved(let id, nil): "proposal \(id) is not decided yet: approve it (approve or modify) instead"
        case .notApproved(let id, let status?): "proposal \(id) was \(status.rawValue), not approved: there is nothing to apply"
        case .alreadyApplied(let id): "proposal \(id) is applied already: there is nothing to apply again"
        case .inProgress(let id): "an apply of proposal \(id) is running now; wait for it (`show \(id)` says how it ended)"
        case .grantOver(let id, let expiresAt):
            "proposal \(id) was approved for a time that ended at \(Timestamp.format(expiresAt)): applied now, it "
                + "would be for good; nothing was written: ask the agent to propose it again and approve the new "
                + "proposal (with --for for a time)"
        case .notSealed(let id, let origin):
            "proposal \(id)'s approval was not sealed by this host (\(origin.label ?? origin.rawValue)): it is never applied "
                + "again; if you still want the change, ask the agent to propose it anew and approve that"
        }
    }
}

extension Applier {
    /// Runs the apply of an approval whose apply failed ("approved, not applied") again: the reload
    /// that failed may work now (the container is up again, a typo in supervise.toml is fixed).
    ///
    /// The same steps as ``apply(decision:proposal:queue:force:)`` after the claim: the bottle locked,
    /// the decision read again under the lock (another re-run may have won), the bottle's file still the
    /// one the failed apply put back (else ``ApplyError/conflict(current:expectedSHA256:actualSHA256:)``
    /// unless `force`), the approved file validated again, then written and reloaded, put back on failure.
    /// The outcome replaces the decision's and is audited as an `apply` by `operatorName`; the decision
    /// itself (who approved, when, the notes) stays as it was.
    ///
    /// A time-boxed approval stays time-boxed: its grant (dropped from the ledger when the apply failed)
    /// is recorded again, ending at the decision's `expires_at` as the agent was told; once that time
    /// has passed (`now`) the re-run is refused (``ReapplyRefusal/grantOver(_:expiresAt:)``).
    /// - Returns: the decision with its new outcome.
    public func reapply(
        _ id: ProposalID, proposal: Proposal, proposalSHA256: String?, queue: BottleQueue, operatorName: String,
        force: Bool = false, now: Date = Date()
    ) async throws -> Decision {
        let bottle = proposal.bottle
        let file = proposal.tool.configFile
        let lock = try await BottleLock.acquire(configRoot.directory(of: bottle))
        defer { withExtendedLifetime(lock) {} }

        guard let decision = try queue.decision(id), decision.status.isApproval else {
            throw ReapplyRefusal.notApproved(id, try queue.decision(id)?.status)
        }
        // Only an approval the host sealed is applied again: an unsigned one is shown, never acted on.
        guard decision.origin.isHostMade else { throw ReapplyRefusal.notSealed(id, decision.origin) }
        switch decision.apply?.state {
        case .applied?: throw ReapplyRefusal.alreadyApplied(id)
        case .pending?: throw ReapplyRefusal.inProgress(id)
        case .failed?, .skipped?, nil: break
        }
        // Bound to the proposal the operator approved: not a file renamed over it since.
        guard let reviewed = decision.proposalSHA256, reviewed == proposalSHA256 else {
            throw ApplyError.proposalChanged(id, reviewed: decision.proposalSHA256, now: proposalSHA256)
        }
        guard let approved = decision.approvedFile(of: proposal) else {
            throw ApplyError.mismatch("a modified decision needs its final file")
        }
        let settings = try ReloadSettings.load(from: configRoot.settingsPath(for: bottle))
        let target = configRoot.path(of: file, for: bottle)
        let action = settings.action(
            for: file, bottle: bottle, directory: configRoot.directory(of: bottle), engine: engine)

        // The file the failed apply put back; without an outcome, the one the proposal was made against.
        let expected = decision.apply?.previousSHA256 ?? proposal.currentFileSHA256
        let previous = try AtomicFile.read(target)
        let previousSHA = previous.map { SHA256Hex.of($0) }
        if previousSHA != expected, !force {
            throw ApplyError.conflict(
                current: previous.map { String(decoding: $0, as: UTF8.self) }, expectedSHA256: expected,
                actualSHA256: previousSHA)
        }
        do throws(ValidationError) {
            try ProposedFileValidator.validate(
                approved, for: proposal.tool, current: previous.map { String(decoding: $0, as: UTF8.self) })
        } catch {
            throw ApplyError.invalidProposal(id, reason: "the \(file.fileName) does not validate: \(error)")
        }

        // What it adds over the file it replaces: the grant's holdings, or what a permanent approval releases.
        let change = GrantHoldings.change(
            of: file, from: previous.map { String(decoding: $0, as: UTF8.self) }, to: approved)
        var recorded: Grant?
        if let expiresAt = decision.expiresAt {
            guard expiresAt > now else { throw ReapplyRefusal.grantOver(id, expiresAt: expiresAt) }
            // In the ledger before the file is written, as for the first apply.
            recorded = try recordGrant(
                change, of: proposal, file: file, before: previous, grantedBy: decision.decidedBy, grantedAt: now,
                expiresAt: expiresAt, replacingLive: true)
        }

        // Marked as running first: a crash here is then finished like any interrupted apply.
        try queue.recordApply(ApplyOutcome(state: .pending, summary: "applying again"), for: id)
        let newData = Data(approved.utf8)
        let outcome = await writeAndReload(
            newData, to: target, previous: previous, bottle: bottle, file: file, action: action)
        settleGrants(after: outcome, change: change, of: proposal, file: file, recorded: recorded)
        try queue.recordApply(outcome, for: id)
        audit(
            AuditRecord(
                event: .apply, by: operatorName, bottle: bottle, file: file, tool: proposal.tool, id: id,
                status: outcome.state.rawValue, oldSHA256: previousSHA, newSHA256: SHA256Hex.of(newData),
                apply: outcome))
        var final = decision
        final.apply = outcome
        return try queue.decision(id) ?? final
    }
}
