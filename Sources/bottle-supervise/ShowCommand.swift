import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Queue
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise show ID`: one proposal, as the operator reviews it.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one proposal: justification, summary and diff against the bottle's current file.")

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Flag(help: "Print one JSON document (documented in docs/console.md) instead of the review.")
    var json = false

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var fleet: FleetDatabaseOptions

    @OptionGroup var fleetHost: FleetHostOption

    func validate() throws {
        try FleetDecision.validate(database: fleet.database, host: fleetHost.host != nil, hostOnly: [:])
    }

    func run() async throws {
        if let database = try fleet.settings() {
            try await FleetView.show(id, database: database, host: fleetHost.host?.name, json: json)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // the diff is against it: a mistyped one would show every line as new
        await locations.endOverdueGrants(command: "show")
        locations.finishInterruptedApplies(command: "show")
        let lookup = ProposalLookup(locations: locations)
        let (entry, _) = try lookup.find(id)
        if entry.decision == nil, let digest = entry.proposalSHA256 {
            ReviewRecord(queueRoot: locations.queueRoot).remember(entry.proposal.id, digest: digest)
        }
        let current = lookup.currentFile(for: entry.proposal)
        if json {
            print(ShowJSON.render(entry, currentFile: current, configRoot: locations.configRoot))
            return
        }
        // The host's own record of when it first saw the proposal (the sidecar writes created_at).
        let seen = HostFirstSeen(queueRoot: locations.queueRoot)
        let firstSeen =
            entry.isPending
            ? seen.record(entry.proposal.id, of: entry.proposal.bottle)
            : seen.lookup(entry.proposal.id, of: entry.proposal.bottle)
        print(
            Self.render(
                entry, currentFile: current, configRoot: locations.configRoot, color: useColor(), firstSeen: firstSeen))
        // A time-boxed approval: what the host's ledger says (never the decision file's copy, which the sidecar could rewrite).
        if let grant = try? GrantLedger(queueRoot: locations.queueRoot).grants().last(where: {
            $0.id == entry.proposal.id && $0.bottle == entry.proposal.bottle
        }) {
            let holds = Escaped(grant.holdings.summary.joined(separator: ", ")).description
            if let ended = grant.ended {
                print("grant     \(ended.reason.rawValue) at \(Timestamp.format(ended.at)): \(Escaped(ended.summary))")
            } else {
                print(
                    "grant     live until \(Timestamp.format(grant.expiresAt)) "
                        + "(in \(GrantDuration.left(until: grant.expiresAt, now: Date()))); holds \(holds)")
            }
        }
    }

    /// The agent's justification as `show` prints it: a heading, the text escaped and indented, blank lines around.
    static func justification(_ text: String, color: Bool) -> [String] {
        ["", color ? "\u{1B}[1mJustification\u{1B}[0m" : "Justification"]
            + Escaped(text, keepLayout: true).description.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "  " + $0 } + [""]
    }

    /// The proposal as the operator reviews it: while pending, against the
    /// bottle's current file; once decided, what was decided and applied
    /// (``DecisionReview``), with nothing offered to decide.
    /// - Parameter firstSeen: when the host first saw it (``HostFirstSeen``),
    ///   shown beside `created` when the two disagree by more than a minute.
    static func render(
        _ entry: QueueEntry, currentFile: String?, configRoot: FilePath, color: Bool, firstSeen: Date? = nil
    ) -> String {
        let proposal = entry.proposal
        let state = entry.stateLine
        var lines = [
            "proposal  \(proposal.id)",
            "bottle    \(proposal.bottle)",
            "tool      \(proposal.tool.rawValue) → \(proposal.tool.configFile.fileName)",
            "created   \(Timestamp.format(proposal.createdAt))"
                + (firstSeen.map { abs($0.timeIntervalSince(proposal.createdAt)) > 60 ? " (as the sidecar says; the host first saw it \(Timestamp.format($0)))" : "" } ?? ""),
            "state     \(state)",
            "sha256    \(entry.proposalSHA256 ?? "-")",
        ]
        if let problem = entry.problem, entry.decision == nil {
            lines.append("refused   \(Escaped(problem)) — approving it will be refused")
        }
        lines += justification(proposal.justification, color: color)
        if let decision = entry.decision {
            lines += DecisionReview(proposal: proposal, decision: decision, configRoot: configRoot).render(color: color)
        } else {
            lines += ProposalReview(proposal: proposal, currentFile: currentFile).render(color: color)
        }
        if entry.decision == nil, let digest = entry.proposalSHA256 {
            // The digest binds a scripted decision to exactly what was shown here.
            lines.append("")
            lines.append("To decide exactly what is shown: bottle-supervise approve \(proposal.id) --expect-sha256 \(digest)")
        }
        return lines.joined(separator: "\n")
    }
}
