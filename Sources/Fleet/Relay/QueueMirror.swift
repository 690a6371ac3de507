import Apply
import Foundation
import Logging
import Queue
import Risk

/// Reads a host's queue into ``FleetSnapshot``s, for the relay to mirror.
///
/// The queue is read only through the readers the host commands use
/// (``QueueRoot/scanBottles()``, ``BottleQueue/scan(archived:)``,
/// ``BottleQueue/entry(_:)``), so the mirror sees what `list` sees: a
/// malformed file is skipped and logged, never mirrored; a forged decision
/// is set aside, never mirrored as a decision.
///
/// A snapshot is complete for its scope: the store archives the proposals of
/// that scope it lists as live but the snapshot does not. So that a proposal
/// decided and archived between two looks still reaches the database *with*
/// its decision, the snapshot also carries every proposal the mirror last saw
/// live (``liveBefore``), read again wherever it is now — in the archive,
/// with the decision it left with.
struct QueueMirror: Sendable {
    let host: FleetHostName
    let root: QueueRoot
    let configRoot: ConfigRoot
    let logger: Logger
    /// How many operators each proposal needs, by this host's settings; `nil`: one (no settings file).
    var approvals: HostApprovalPolicy?

    /// The proposals the last snapshot of each bottle had live.
    var liveBefore: [BottleSlug: Set<ProposalID>] = [:]

    /// A snapshot of every bottle of the host.
    /// - Parameter archivedSince: also the archived proposals made since then: those made and
    ///   decided while no relay ran (the database down, the relay stopped), which would otherwise
    ///   never reach it. `nil`: none (a host new to the fleet starts with what is live).
    mutating func hostSnapshot(archivedSince: Date? = nil) throws(QueueError) -> FleetSnapshot {
        let scanned = try root.scanBottles()
        for skipped in scanned.skipped { logger.warning("skipped a bottle directory", metadata: ["error": "\(skipped)"]) }
        var proposals: [FleetProposalRow] = []
        for bottle in scanned.bottles { proposals += rows(of: bottle, archivedSince: archivedSince) }
        // Bottles that went away: what they had live is archived (the store marks it).
        for bottle in liveBefore.keys where !scanned.bottles.contains(bottle) { liveBefore[bottle] = nil }
        return FleetSnapshot(host: host, bottles: scanned.bottles, proposals: proposals)
    }

    /// A snapshot of one bottle.
    mutating func bottleSnapshot(_ bottle: BottleSlug) -> FleetSnapshot {
        FleetSnapshot(host: host, bottle: bottle, proposals: rows(of: bottle))
    }

    /// The rows of `bottle`: its live proposals, and those it had live before, wherever they are now.
    private mutating func rows(of bottle: BottleSlug, archivedSince: Date? = nil) -> [FleetProposalRow] {
        let queue = root.queue(for: bottle)
        var entries: [QueueEntry] = []
        do {
            let scan = try queue.scan(archived: false)
            for unreadable in scan.unreadable {
                logger.warning("skipped a proposal that does not read", metadata: ["error": "\(unreadable)"])
            }
            entries = scan.entries
        } catch {
            logger.warning("could not read a bottle's queue", metadata: ["bottle": "\(bottle)", "error": "\(error)"])
            return []
        }
        let live = Set(entries.map(\.proposal.id))
        for id in (liveBefore[bottle] ?? []).subtracting(live) {
            if let gone = try? queue.entry(id) { entries.append(gone) }
        }
        if let archivedSince, let archived = try? queue.scan(archived: true) {
            let known = Set(entries.map(\.proposal.id))
            entries += archived.entries.filter { $0.proposal.createdAt >= archivedSince && !known.contains($0.proposal.id) }
        }
        liveBefore[bottle] = live
        let current = CurrentFiles(configRoot: configRoot, bottle: bottle)
        return entries.compactMap { row(for: $0, in: queue, current: current) }
    }

    /// One entry's row, with the bytes its digest was taken from; `nil` (logged) when the file
    /// changed between the two reads or went away: the change that did it brings another look.
    private func row(for entry: QueueEntry, in queue: BottleQueue, current: CurrentFiles) -> FleetProposalRow? {
        let proposal = entry.proposal
        do {
            guard let bytes = try queue.proposalFile(proposal.id) else { return nil }
            let currentFile = current.text(of: proposal.tool.configFile)
            let hints = RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: currentFile)
            var row = try FleetProposalRow(
                host: host, entry: entry, proposalFile: bytes, riskHints: hints, currentFile: currentFile)
            if let approvals { row.hostApprovals = approvals.approvals(for: proposal, hints: hints, current: currentFile) }
            return row
        } catch {
            logger.debug("proposal not mirrored this time", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
            return nil
        }
    }

    /// A bottle's current files, each read once per snapshot.
    private final class CurrentFiles {
        let configRoot: ConfigRoot
        let bottle: BottleSlug
        private var read: [ConfigFile: String?] = [:]

        init(configRoot: ConfigRoot, bottle: BottleSlug) {
            self.configRoot = configRoot
            self.bottle = bottle
        }

        func text(of file: ConfigFile) -> String? {
            if let known = read[file] { return known }
            let text = try? configRoot.current(file, for: bottle)
            read[file] = .some(text ?? nil)
            return text ?? nil
        }
    }
}
