import Apply
import ArgumentParser
import Fleet
import Foundation
import Logging
import Queue
import SidecarCommandLine
import SystemPackage

/// `approve`, `modify` and `reject` with `--database`: the decision is
/// claimed in the fleet's database, where the primary key on the proposal
/// is the one-decision rule across every host, bound to the digest of the
/// proposal bytes as read (or `--expect-sha256`); then the command waits
/// (`--wait`) for the owning host's relay to apply it and prints the outcome
/// as the local command would.
///
/// Exit statuses as without `--database`: 3 no such proposal in the fleet,
/// 4 already decided (by whom, on which host) or withdrawn, 5 the proposal is
/// not the one reviewed, 1 the owning host refused or could not apply it.
/// A claim the host's relay has not applied within the wait is not a
/// failure: the relay applies it when it runs (0, and says so).
struct FleetDecision {
    let database: FleetDatabaseSettings
    /// `--host`: whose proposal, when two hosts have one with this id.
    let host: FleetHostName?
    /// How long to wait for the owning host's delivery.
    let wait: Duration
    /// `[fleet] approvals` of this host's settings file (its origin names the
    /// file). What an approval needs is the higher of that and what the
    /// owning host mirrored (``ApprovalRequirement``); one that needs more than
    /// one operator is refused here (the fleet page collects the approvals of
    /// named operators), so the command is no way around a threshold.
    var threshold = ApprovalThreshold()

    /// What the operator decided, given the proposal as the database has it.
    struct Choice: Sendable {
        var status: DecisionStatus
        var notes: String
        var answer: String?
        /// For `modify`: the final file, from the proposal as stored (checked against its current file).
        var finalFile: (@Sendable (FleetProposalRow) throws -> String)?
    }

    /// Claims `choice` on proposal `idText` and reports the owning host's delivery.
    func decide(_ idText: String, _ choice: Choice, expectedSHA256: String?) async throws {
        let host = host
        let wait = wait
        let threshold = threshold
        let outcome: Outcome = try await Self.connected(database) { store in
            let row = try await Self.find(idText, host: host, in: store)
            if let expectedSHA256, expectedSHA256 != row.proposalSHA256 {
                throw Failure.changed(
                    "proposal \(row.id) on host \(row.host) is not the one reviewed: its file hashes to "
                        + "\(row.proposalSHA256), not \(expectedSHA256); nothing was decided: run `show \(row.id) --database …` again")
            }
            let finalFile = try choice.finalFile?(row)
            let applied = finalFile ?? row.proposedFile
            let needed = ApprovalRequirement(for: row, applying: applied, threshold: threshold)
            if choice.status.isApproval, needed.count > 1 {
                let approvals = try await FleetApprovals(client: store.client, logger: Self.quietLogger).approvals(
                    host: row.host.rawValue, bottle: row.bottle.rawValue, id: row.id.rawValue)
                let approvers = approvals.filter {
                    $0.proposalSHA256 == row.proposalSHA256 && $0.fileSHA256 == SHA256Hex.of(applied)
                }.map(\.operatorName)
                throw Failure.failed(
                    "proposal \(row.id) on host \(row.host) \(needed.needs): \(needed.progress(approvers)); nothing was "
                        + "decided: approve it on the fleet page (bottle-supervise web --database), where each operator "
                        + "signs in with their own link")
            }
            let claim = FleetDecisionRow(
                host: row.host, bottle: row.bottle, id: row.id, status: choice.status, notes: choice.notes,
                finalFile: finalFile, answer: choice.answer, decidedBy: OperatorName.current,
                proposalSHA256: expectedSHA256 ?? row.proposalSHA256)
            let result: FleetDecideResult
            do {
                result = try await FleetDeadline.within(Self.claimLimit, doing: "claiming the decision") {
                    try await store.decide(claim)
                }
            } catch {
                // The claim's transaction may have committed before the answer was lost.
                throw Failure.failed(
                    "the decision on proposal \(row.id) (host \(row.host)) may have been recorded: \(error); "
                        + "run `show \(row.id) --database …` to see whether it was")
            }
            switch result {
            case .won:
                // The claim is in the database: whatever happens while following it, the host's relay applies it.
                do {
                    return try await Self.delivery(of: claim, in: store, wait: wait).map { .delivered(row, $0) }
                        ?? .claimed(row)
                } catch {
                    return .unfollowed(row, "\(error)")
                }
            case .alreadyDecided(let winner):
                throw Failure.alreadyDecided(Self.alreadyDecided(winner))
            case .proposalChanged(let current):
                throw Failure.changed(
                    "proposal \(row.id) on host \(row.host) changed since it was read (sha256 \(current.prefix(12))); "
                        + "nothing was decided: run `show \(row.id) --database …` again")
            case .proposalArchived:
                throw Failure.alreadyDecided(
                    "proposal \(row.id) on host \(row.host) was withdrawn or expired without a decision; nothing was decided")
            case .unknownProposal:
                throw Failure.notFound("no proposal \(row.id) in the fleet database")
            }
        }
        try report(outcome)
    }

    /// Where the claim ended up by the time the command stopped waiting.
    private enum Outcome: Sendable {
        /// The owning host's relay gave its word (delivered, superseded, refused).
        case delivered(FleetProposalRow, FleetDecisionRow)
        /// In the database, not applied yet.
        case claimed(FleetProposalRow)
        /// In the database; following its delivery failed (why).
        case unfollowed(FleetProposalRow, String)
    }

    /// How long the claim itself may take (docs/fleet.md: a command says the database is unreachable within 10 s).
    static let claimLimit = Duration.seconds(10)

    private func report(_ outcome: Outcome) throws {
        switch outcome {
        case .unfollowed(let row, let reason):
            print(
                "decided \(row.id) (\(row.tool.rawValue) for \(row.bottle) on host \(row.host)): the decision is recorded in "
                    + "the fleet database and host \(row.host)'s relay applies it; could not follow its delivery: "
                    + "\(Escaped(reason)) (`show \(row.id) --database …` tells when it is applied)")
        case .claimed(let row):
            print(
                "decided \(row.id) (\(row.tool.rawValue) for \(row.bottle) on host \(row.host)) in the fleet database; "
                    + "host \(row.host)'s relay has not applied it yet: it applies it when it runs "
                    + "(`show \(row.id) --database …` tells when)")
        case .delivered(let row, let decision):
            switch decision.delivery {
            case .delivered, .awaitingHost:
                var line = "\(decision.status.rawValue) \(row.id) (\(row.tool.rawValue) for \(row.bottle) on host \(row.host))"
                if let summary = decision.applySummary { line += ": \(Escaped(summary))" }
                print(line)
                if decision.applyState == .failed {
                    throw Failure.failed(
                        "nothing was applied on host \(row.host); once the cause is fixed, run "
                            + "`bottle-supervise apply \(row.id)` on host \(row.host)")
                }
            case .superseded:
                throw Failure.alreadyDecided(Self.alreadyDecided(decision) + "; that decision stands, yours was not applied")
            case .refused:
                throw Failure.failed(
                    "host \(row.host) refused the decision: \(Escaped(decision.reason ?? "no reason given")); "
                        + "the proposal is undecided there")
            }
        }
    }

    /// "proposal ID is already approved by NAME (on host H)".
    static func alreadyDecided(_ decision: FleetDecisionRow) -> String {
        "proposal \(decision.id) is already \(decision.status.rawValue) by \(Escaped(decision.decidedBy)) (on host \(decision.host))"
    }

    /// The one proposal `idText` names in the fleet (on `host`, when given).
    /// - Throws: 3 none; 2 several hosts have it and no `--host` chose; 4 decided or withdrawn.
    static func find(_ idText: String, host: FleetHostName?, in store: FleetStore) async throws -> FleetProposalRow {
        let row = try await locate(idText, host: host, in: store)
        if let decision = row.decision, decision.delivery != .refused {
            throw Failure.alreadyDecided(alreadyDecided(decision))
        }
        if row.archived {
            throw Failure.alreadyDecided(
                "proposal \(row.id) on host \(row.host) was withdrawn or expired without a decision")
        }
        return row
    }

    /// The one proposal `idText` names in the fleet, decided or not.
    static func locate(_ idText: String, host: FleetHostName?, in store: FleetStore) async throws -> FleetProposalRow {
        guard let id = try? ProposalID(idText) else {
            throw Failure.notFound("\(Escaped(idText)) is not a proposal id (like 20261206-230000-3fa9c2d1e4b7)")
        }
        let rows = try await store.proposals(id: id).filter { host == nil || $0.host == host }
        guard let row = rows.first else {
            throw Failure.notFound(
                "no proposal \(id) in the fleet database" + (host.map { " for host \($0)" } ?? ""))
        }
        guard rows.count == 1 else {
            throw Failure.usage(
                "proposal \(id) is on hosts \(rows.map(\.host.rawValue).sorted().joined(separator: ", ")): "
                    + "choose one with --host NAME")
        }
        return row
    }

    /// Waits up to `wait` for the owning host's word on `claim`: its decision row once the relay
    /// has delivered (and the apply has an outcome), superseded or refused it; `nil` when time ran out.
    static func delivery(of claim: FleetDecisionRow, in store: FleetStore, wait: Duration) async throws
        -> FleetDecisionRow?
    {
        @Sendable func settled() async throws -> FleetDecisionRow? {
            guard let row = try await store.decision(host: claim.host, bottle: claim.bottle, id: claim.id) else {
                return nil
            }
            switch row.delivery {
            case .awaitingHost: return nil
            case .delivered: return row.applyState == .pending ? nil : row
            case .superseded, .refused: return row
            }
        }
        let key = "\(claim.host)/\(claim.bottle)/\(claim.id)"
        // Listening before the first look: a delivery between the two is not missed.
        let changes = try await store.changes(channel: FleetSchema.changeChannel)
        return try await withThrowingTaskGroup(of: FleetDecisionRow?.self) { group in
            group.addTask {
                // Each look bounded: a query on a server that just died can hang in the pool.
                @Sendable func look() async throws -> FleetDecisionRow? {
                    try await FleetDeadline.within(.seconds(5), doing: "following the decision", settled)
                }
                if let row = try await look() { return row }
                for try await payload in changes where payload == key {
                    if let row = try await look() { return row }
                }
                // The notifications ended before the wait did: the connection is gone (FleetStore.changes
                // ends when its connection closes or stops answering). That is not "not applied yet".
                throw FleetStoreError.unavailable("the database's notifications stopped (the connection was lost)")
            }
            group.addTask {
                // The wait's end. A database that dies mid-wait ends the notifications above
                // (FleetStore.changes ends when its connection closes or a keep-alive goes unanswered),
                // which fails the wait at once; nothing here needs to look again.
                try await Task.sleep(for: wait)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// The `[fleet] approvals` threshold in the host settings file at `path` (a bad value fails, 1).
    static func thresholdSetting(at path: FilePath) throws -> ApprovalThreshold {
        do throws(FleetSettingsError) { return try FleetWebSettings.threshold(from: path) } catch {
            throw Failure.failed(error.description)
        }
    }

    /// A command's database log: nothing below errors (the command says what went wrong itself).
    static var quietLogger: Logger {
        var logger = Logger(label: "bottle-supervise.fleet")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` on the fleet's database, turning its failures into the commands' exit statuses.
    static func connected<Result: Sendable>(
        _ database: FleetDatabaseSettings, _ body: @Sendable @escaping (FleetStore) async throws -> Result
    ) async throws -> Result {
        do {
            return try await FleetStore.withStore(settings: database, logger: quietLogger) { store in
                try await FleetDeadline.within(.seconds(10), doing: "connecting") { try await store.migrator.requireCurrent() }
                return try await body(store)
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as FleetSettingsError {
            throw Failure.usage(error.message)
        } catch let error as FleetStoreError {
            throw Failure.failed(
                "\(error.message); without --database, each host's own commands still work on its queue")
        } catch {
            throw Failure.failed("the fleet database: \(error)")
        }
    }
}

/// `--wait`, for the commands that decide through the database.
struct FleetWaitOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "With --database: how long to wait for the owning host's relay to apply the decision, in seconds (0: do not wait).",
            valueName: "seconds"))
    var wait: UInt32 = 30
}

extension FleetDecision {
    /// With `--database`: the flags that act only on the host that owns the bottle are refused
    /// (usage, 2), and `--host` needs `--database`.
    /// - Parameter hostOnly: each such flag and whether it was given.
    static func validate(database: String?, host: Bool, hostOnly: [String: Bool]) throws {
        guard database != nil else {
            if host { throw ArgumentParser.ValidationError("--host chooses among the fleet's hosts: it needs --database") }
            return
        }
        if let flag = hostOnly.filter(\.value).keys.sorted().first {
            throw ArgumentParser.ValidationError(
                flag == "--edit"
                    ? "--edit cannot be used with --database: give the modified file with --file"
                    : "\(flag) cannot be used with --database: it acts on the host that owns the bottle; run the command "
                        + "there without --database (the relay applies a fleet decision as the bottle's settings say)")
        }
    }

    /// `content` as the final file of a modification of `row`: validated like the agent's file, against the
    /// bottle's current file as its host mirrored it; the proposal unchanged is not a modification.
    static func modified(_ content: String, of row: FleetProposalRow) throws -> String {
        do throws(Queue.ValidationError) {
            try ProposedFileValidator.validate(content, for: row.tool, current: row.currentFile)
        } catch {
            throw Failure.failed("the modified file does not validate:\n\(error)")
        }
        if content == row.proposedFile {
            throw Failure.failed(
                "the given file is the proposal unchanged: nothing was decided; to approve it as proposed, run "
                    + "`bottle-supervise approve \(row.id) --database …`")
        }
        return content
    }
}
