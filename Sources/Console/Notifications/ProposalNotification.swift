import Foundation
import Queue
import Risk

/// What the operator is told about a new proposal, the same on every
/// channel: which bottle wants which file changed, a summary of the change,
/// the highest risk hint, and where to decide it.
///
/// Every piece of agent text in it (justification, hosts and instructions
/// in the summary, hint reasons) is escaped for terminals here; each channel
/// adds the escaping of its own markup on top (``SlackText``).
public struct ProposalNotification: Sendable, Equatable {
    public let id: ProposalID
    public let bottle: BottleSlug
    public let tool: Tool
    /// The first lines of the console's summary ("host added: pypi.org").
    public let summary: [String]
    /// The most severe hint; `nil` for none. (Of a group: the most severe of all.)
    public private(set) var highestRisk: RiskSeverity?
    /// The hints' reasons, most severe first (at most three).
    public let risks: [String]
    /// The justification's first line, escaped, at most 200 characters.
    public let justification: String
    /// The web console's page for the proposal, when its URL is configured.
    public let link: String?
    /// The proposal's `created_at`, as the sidecar wrote it.
    public let createdAt: Date
    /// When the host first saw it (``HostFirstSeen``); `nil` when unknown.
    public private(set) var firstSeen: Date?
    /// Whether this is the one reminder of a proposal still pending.
    public private(set) var isReminder = false
    /// Every proposal the message is about: one, or a group's (``grouped(_:)``).
    public private(set) var ids: [ProposalID]
    /// A group's one line ("12 new proposals from web-1"); `nil` for one proposal.
    private var headline: String?
    /// A group's body; `nil` for one proposal.
    private var groupLines: [String]?

    /// The notification for `proposal`, against the bottle's `currentFile`.
    public init(proposal: Proposal, currentFile: String?, consoleURL: String?) {
        let review = ProposalReview(proposal: proposal, currentFile: currentFile)
        let hints = review.riskHints
        id = proposal.id
        bottle = proposal.bottle
        tool = proposal.tool
        summary = Array(review.summary.prefix(5))
        highestRisk = hints.highestSeverity
        risks = hints.prefix(3).map { "\($0.severity.rawValue): \(Escaped($0.reason))" }
        let first = proposal.justification.split(separator: "\n", omittingEmptySubsequences: true).first ?? ""
        let escaped = Escaped(String(first)).description
        justification = escaped.count > 200 ? String(escaped.prefix(199)) + "…" : escaped
        link = consoleURL.map { "\($0)/proposals/\(proposal.id.rawValue)" }
        createdAt = proposal.createdAt
        ids = [proposal.id]
    }

    /// The same, with when the host first saw it, and as a reminder or not.
    func seen(at firstSeen: Date?, reminder: Bool) -> ProposalNotification {
        var copy = self
        copy.firstSeen = firstSeen
        copy.isReminder = reminder
        return copy
    }

    /// Whether the sidecar's `created_at` and the host's first sight of the
    /// proposal disagree by more than a minute (then both are shown).
    public var createdAtDisagrees: Bool {
        firstSeen.map { abs($0.timeIntervalSince(createdAt)) > 60 } ?? false
    }

    /// One message for several proposals (already in the order to show):
    /// "12 new proposals from web-1", at the priority of the most severe
    /// hint among them, listing the first ten. One proposal is itself.
    static func grouped(_ items: [ProposalNotification]) -> ProposalNotification {
        guard var group = items.first else { preconditionFailure("an empty group") }
        guard items.count > 1 else { return group }
        let bottles = Set(items.map(\.bottle))
        let noun = items.allSatisfy(\.isReminder) ? "proposals still waiting" : "new proposals"
        group.highestRisk = items.compactMap(\.highestRisk).max { AnnouncementSchedule.severity($0) < AnnouncementSchedule.severity($1) }
        group.ids = items.map(\.id)
        group.headline =
            "\(items.count) \(noun) from " + (bottles.count == 1 ? group.bottle.rawValue : "\(bottles.count) bottles")
            + (group.highestRisk.map { " [\($0.rawValue)]" } ?? "")
        var lines = items.prefix(10).map { item in
            "\(item.isReminder ? "still waiting: " : "")\(item.bottle.rawValue) \(item.tool.rawValue)"
                + (item.highestRisk.map { " [\($0.rawValue)]" } ?? "") + ": " + (item.summary.first ?? item.id.rawValue)
        }
        if items.count > 10 { lines.append("… and \(items.count - 10) more") }
        lines.append(
            group.link.map { _ in "decide: the web console" } ?? "decide: bottle-supervise list")
        group.groupLines = lines
        return group
    }

    /// One line: `demo: pipelock-block wants to change allowlist`.
    public var title: String {
        if let headline { return headline }
        return (isReminder ? "still waiting: " : "")
            + "\(bottle.rawValue): \(tool.rawValue) wants to change \(tool.configFile.fileName)"
            + (highestRisk.map { " [\($0.rawValue)]" } ?? "")
    }

    /// The body as plain lines.
    public var lines: [String] {
        if let groupLines { return groupLines }
        var lines = summary
        lines += risks.map { "risk \($0)" }
        if !justification.isEmpty { lines.append("why: \(justification)") }
        if let firstSeen, isReminder {
            lines.append("pending since \(Timestamp.format(firstSeen)) (first seen by the host)")
        }
        if let firstSeen, createdAtDisagrees {
            lines.append(
                "first seen by the host \(Timestamp.format(firstSeen)); the sidecar says created \(Timestamp.format(createdAt))")
        }
        lines.append(link.map { "decide: \($0)" } ?? "decide: bottle-supervise show \(id.rawValue)")
        return lines
    }
}
