import Apply
import ArgumentParser
import Foundation
import Queue

/// What the operator commands share: finding a proposal by id, reading the
/// bottle's current file, and turning queue and apply errors into the exit
/// statuses PRODUCT.md fixes (3 no such proposal, 4 already decided).
struct ProposalLookup {
    let locations: HostLocationOptions

    var root: QueueRoot { QueueRoot(locations.queueRoot) }
    var applier: Applier { Applier(configRoot: locations.configRoot, queueRoot: locations.queueRoot) }

    /// The proposal `text` names and its bottle's queue; exits 3 when there is none.
    func find(_ text: String) throws -> (entry: QueueEntry, queue: BottleQueue) {
        do throws(QueueError) {
            let id = try ProposalID(text)
            let queue = try root.locate(id)
            let proposal = try queue.proposal(id)
            let entry = QueueEntry(
                proposal: proposal, decision: try queue.decision(id), waiting: queue.isWaiting(id),
                archived: !queue.isLive(id), stoppedWaitingAt: queue.stoppedWaitingTime(id))
            return (entry, queue)
        } catch {
            switch error {
            case .invalidProposalID, .noSuchProposal: throw Failure.noSuchProposal(error.description)
            default: throw Failure.failed(error.description)
            }
        }
    }

    /// The bottle's current file for `proposal` (`nil`: none).
    func currentFile(for proposal: Proposal) -> String? {
        try? ConfigRoot(locations.configRoot).current(proposal.tool.configFile, for: proposal.bottle)
    }

    /// Refuses a proposal that already has a decision (exit 4).
    func requirePending(_ entry: QueueEntry) throws {
        if let decision = entry.decision {
            throw Failure.alreadyDecided(
                "proposal \(entry.proposal.id) is already \(decision.status.rawValue) (by \(Escaped(decision.decidedBy)))"
            )
        }
    }

    /// Runs a decision, mapping the queue's and the apply step's errors to exit statuses.
    func deciding(_ body: () async throws -> Decision) async throws -> Decision {
        do {
            return try await body()
        } catch let error as QueueError {
            if case .alreadyDecided(let id, let status) = error {
                throw Failure.alreadyDecided(
                    "proposal \(id) is already \(status.rawValue): another decision won; nothing was changed")
            }
            throw Failure.failed(error.description)
        } catch let error as ApplyError {
            throw Failure.failed(error.description)
        }
    }

    /// Prints what happened to a decision, for the operator.
    static func report(_ decision: Decision, of proposal: Proposal) {
        var line = "\(decision.status.rawValue) \(proposal.id) (\(proposal.tool.rawValue) for \(proposal.bottle))"
        if let apply = decision.apply { line += ": \(Escaped(apply.summary))" }
        print(line)
    }
}

/// A failure with its exit status and a message for standard error.
enum Failure: Error {
    case failed(String)
    case noSuchProposal(String)
    case alreadyDecided(String)

    var status: Int32 {
        switch self {
        case .failed: 1
        case .noSuchProposal: 3
        case .alreadyDecided: 4
        }
    }

    var message: String {
        switch self {
        case .failed(let text), .noSuchProposal(let text), .alreadyDecided(let text): text
        }
    }

    /// Prints the message and exits with the status.
    static func exit(_ failure: Failure, command: String) -> ExitCode {
        FileHandle.standardError.write(Data("bottle-supervise \(command): \(failure.message)\n".utf8))
        return ExitCode(failure.status)
    }
}

/// Whether to colour output: only on a terminal, and never with `NO_COLOR` set.
func useColor() -> Bool {
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}
