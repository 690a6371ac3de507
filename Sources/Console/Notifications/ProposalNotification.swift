import Foundation
import Queue

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
    /// The most severe hint; `nil` for none.
    public let highestRisk: RiskSeverity?
    /// The hints' reasons, most severe first (at most three).
    public let risks: [String]
    /// The justification's first line, escaped, at most 200 characters.
    public let justification: String
    /// The web console's page for the proposal, when its URL is configured.
    public let link: String?

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
    }

    /// One line: `demo: pipelock-block wants to change allowlist`.
    public var title: String {
        "\(bottle.rawValue): \(tool.rawValue) wants to change \(tool.configFile.fileName)"
            + (highestRisk.map { " [\($0.rawValue)]" } ?? "")
    }

    /// The body as plain lines.
    public var lines: [String] {
        var lines = summary
        lines += risks.map { "risk \($0)" }
        if !justification.isEmpty { lines.append("why: \(justification)") }
        lines.append(link.map { "decide: \($0)" } ?? "decide: bottle-supervise show \(id.rawValue)")
        return lines
    }
}
