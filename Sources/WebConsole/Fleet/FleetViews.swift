import Console
import Fleet
import Foundation
import Queue

/// What the fleet's pages show of a mirrored proposal, as template values:
/// the same rows and page as this host's, with the host's name beside them.
enum FleetViews {
    /// The proposal's page: `/fleet/HOST/BOTTLE/ID` (each part is a checked name).
    static func path(_ row: FleetProposalRow) -> String {
        "/fleet/\(row.host.rawValue)/\(row.bottle.rawValue)/\(row.id.rawValue)"
    }

    /// The proposal as its host read it, decoded from the mirrored bytes
    /// (the digest a decision binds to is of those bytes); `nil` when they do
    /// not decode as a proposal of this row (never shown, never decided).
    static func entry(_ row: FleetProposalRow) -> QueueEntry? {
        guard let proposal = try? QueueFormat.decode(Proposal.self, from: row.proposal, path: path(row)),
            proposal.id == row.id, proposal.bottle == row.bottle
        else { return nil }
        return QueueEntry(
            proposal: proposal, decision: row.decision?.decision, waiting: row.waiting, archived: row.archived,
            proposalSHA256: row.proposalSHA256, problem: row.problem)
    }

    /// One row of the fleet's list: this host's row with the host's label
    /// and a link to the fleet's page.
    static func row(_ row: FleetProposalRow, now: Date) -> [String: Any]? {
        guard let entry = entry(row) else { return nil }
        var item = ProposalViews.row(entry, hints: row.riskHints, now: now)
        item["host"] = row.host.rawValue
        item["href"] = path(row)
        return item
    }

    /// The list's pager when the proposals that match are more than a page:
    /// which of them are shown, of how many, and links to the pages before
    /// and after (the filters narrow it further).
    static func pager(_ page: FleetPendingPage, filter: FleetFilter, limit: Int) -> [String: Any] {
        let grouped = FleetPendingPage.grouped
        let last = page.offset + page.rows.count
        var values: [String: Any] = [
            "more": "Showing \(page.shown) pending proposals, oldest first. Choose a host or a bottle to narrow the list, or page through it:"
        ]
        if page.offset > 0 {
            values["previous"] = filter.path(offset: max(0, page.offset - limit))
            values["previousCount"] = grouped(min(limit, page.offset))
        }
        if page.hasMore(limit: limit) {
            values["next"] = filter.path(offset: page.offset + page.rows.count)
            values["nextCount"] = grouped(page.total.map { min(limit, $0 - last) } ?? limit)
        }
        return values
    }

    /// Where a proposal stands in the fleet, for the live part of its page:
    /// `open` while it still awaits a decision (the page's form stays), else
    /// who decided it and what its host did with it, or that it left its
    /// host's queue undecided (the page's script then takes the form away).
    static func status(_ row: FleetProposalRow) -> [String: Any] {
        let host = row.host.rawValue
        if let decision = row.decision {
            return [
                "open": false,
                "text":
                    "Decided: \(decision.status.rawValue) by \(Escaped(decision.decidedBy)) at \(Timestamp.format(decision.decidedAt)).",
                "delivery": delivery(decision, host: host),
            ]
        }
        if row.archived {
            return ["open": false, "text": "No longer pending on \(host): withdrawn or expired without a decision."]
        }
        return [
            "open": true,
            "text": row.waiting ? "Pending on \(host); the agent is waiting." : "Pending on \(host); the agent is not connected.",
        ]
    }

    /// One host of the fleet's host list: its relay's last word and where its audit chain stands.
    static func host(_ host: FleetHostRow, now: Date) -> [String: Any] {
        [
            "name": host.host.rawValue, "lastSeen": ConsoleView.age(of: host.lastSeen, now: now),
            "records": host.auditHead == nil ? "not sent yet" : FleetPendingPage.grouped(host.auditRecords),
            "head": host.auditHead ?? "", "headShort": host.auditHead.map { String($0.prefix(12)) } ?? "—",
        ]
    }

    /// `decided_by` for a decision several operators made: their names in
    /// the order they approved, within the 256 bytes a host accepts in a
    /// decision file (``Decision/shapeProblem()``), the rest counted.
    static func deciders(_ names: [String]) -> String {
        let limit = 256
        var shown: [String] = []
        for (index, name) in names.enumerated() {
            let rest = names.count - index - 1
            let candidate = (shown + [name]).joined(separator: ", ")
            let tail = rest > 0 ? " and \(rest) more" : ""
            guard (candidate + tail).utf8.count <= limit else {
                return shown.joined(separator: ", ") + " and \(names.count - shown.count) more"
            }
            shown.append(name)
        }
        return shown.joined(separator: ", ")
    }

    /// What the owning host did with a decision made in the database, and the
    /// database role that recorded it (`claimed_role`: set by the database,
    /// where `decided_by` is a name the claimant chose).
    static func delivery(_ decision: FleetDecisionRow, host: String) -> String {
        let recorded = decision.claimedRole.map { " Recorded by database role \"\(Escaped($0))\"." } ?? ""
        return deliveryState(decision, host: host) + recorded
    }

    private static func deliveryState(_ decision: FleetDecisionRow, host: String) -> String {
        switch decision.delivery {
        case .awaitingHost: "Waiting for \(host)'s relay to apply it (it does when it runs)."
        case .delivered:
            "Delivered to \(host)" + (decision.applySummary.map { ": \(Escaped($0))" } ?? ".")
        case .superseded:
            "\(host) had already decided it locally; this is that decision"
                + (decision.supersededClaim.map { " (the claim made here was: \(Escaped($0)))" } ?? ".")
        case .refused: "\(host) refused it: \(Escaped(decision.reason ?? "no reason given"))"
        }
    }

    /// "Already approved by NAME (on host H); nothing was changed." — as the
    /// host's own page says a lost race.
    static func alreadyDecided(_ decision: FleetDecisionRow) -> String {
        "Already \(decision.status.rawValue) by \(Escaped(decision.decidedBy)) (on host \(decision.host.rawValue)); nothing was changed."
    }
}
