import Foundation
import Queue
import Risk

/// What an operator reads before deciding: a summary they can take in at a
/// glance, a warning when the bottle's file changed under the proposal, and
/// the unified diff against the current file.
///
/// Used by `show` and by the console's detail view, so both say the same
/// thing. Every line of agent text is escaped here.
public struct ProposalReview: Sendable {
    /// The proposal reviewed.
    public let proposal: Proposal
    /// The bottle's current file (`nil`: there is none, shown as empty).
    public let currentFile: String?

    /// The clock the diff's time budget runs on.
    let diffClock: any Clock<Duration>

    public init(proposal: Proposal, currentFile: String?) {
        self.init(proposal: proposal, currentFile: currentFile, diffClock: ContinuousClock())
    }

    /// A review whose diff budget runs on `diffClock` (tests use one they control).
    init(proposal: Proposal, currentFile: String?, diffClock: any Clock<Duration>) {
        self.proposal = proposal
        self.currentFile = currentFile
        self.diffClock = diffClock
    }

    /// Whether the current file is not the one the proposal was made against.
    public var currentFileChanged: Bool {
        (currentFile.map { SHA256Hex.of($0) }) != proposal.currentFileSHA256
    }

    /// What the change could grant (docs/risk-hints.md), most severe first.
    /// Computed here from the proposal's bytes, never read from the queue.
    public var riskHints: [RiskHint] {
        RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: currentFile)
    }

    /// One-line facts: hosts, routes or instructions added, removed, changed.
    public var summary: [String] {
        let old = currentFile ?? ""
        let new = proposal.proposedFile
        switch proposal.tool {
        case .pipelockBlock:
            let before = Set(((try? AllowlistDocument.parse(old))?.hosts ?? []).map(\.normalizedName))
            guard let after = (try? AllowlistDocument.parse(new)).map({ Set($0.hosts.map(\.normalizedName)) }) else {
                return ["the proposed allowlist does not parse; see the diff"]
            }
            return listed("host", added: after.subtracting(before), removed: before.subtracting(after))
        case .credProxyBlock:
            let before = ((try? RoutesDocument.parse(old))?.routes ?? [])
            guard let after = (try? RoutesDocument.parse(new))?.routes else {
                return ["the proposed routes.json does not parse; see the diff"]
            }
            let beforeKeys = Dictionary(before.map { (Self.routeKey($0), $0) }, uniquingKeysWith: { first, _ in first })
            let afterKeys = Dictionary(after.map { (Self.routeKey($0), $0) }, uniquingKeysWith: { first, _ in first })
            let added = Set(afterKeys.keys).subtracting(beforeKeys.keys)
            let removed = Set(beforeKeys.keys).subtracting(afterKeys.keys)
            let changed = Set(afterKeys.keys).intersection(beforeKeys.keys).filter { afterKeys[$0] != beforeKeys[$0] }
            return listed("route", added: added, removed: removed)
                + changed.sorted().map { "route changed: \(Escaped($0))" }
        case .capabilityBlock:
            let before = ((try? DockerfileDocument.parse(old))?.instructions ?? []).map {
                "\($0.keyword) \($0.arguments)"
            }
            guard
                let after = (try? DockerfileDocument.parse(new))?.instructions.map({ "\($0.keyword) \($0.arguments)" })
            else {
                return ["the proposed Dockerfile does not parse; see the diff"]
            }
            // Sets: a Dockerfile of the agent's may have tens of thousands of instructions.
            let beforeSet = Set(before)
            let afterSet = Set(after)
            let added = after.filter { !beforeSet.contains($0) }
            let removed = before.filter { !afterSet.contains($0) }
            var lines =
                added.map { "instruction added: \(Escaped($0))" }
                + removed.map { "instruction removed: \(Escaped($0))" }
            if lines.isEmpty { lines = ["instructions unchanged (comments or layout only)"] }
            return lines
        }
    }

    /// What the diff compares: its heading, the labels of its two sides, and
    /// whether a current file that changed under the proposal is worth a
    /// warning (only while it can still be decided).
    public struct Comparison: Sendable, Equatable {
        /// The heading above the diff, e.g. `Diff against the current allowlist`.
        public var heading: String
        /// The label of the old side (`--- current/allowlist`).
        public var old: String
        /// The label of the new side (`+++ proposed/allowlist`).
        public var new: String
        /// Warn when the old side is not the file the proposal was made against.
        public var warnsOfChange: Bool

        public init(heading: String, old: String, new: String, warnsOfChange: Bool) {
            self.heading = heading
            self.old = old
            self.new = new
            self.warnsOfChange = warnsOfChange
        }

        /// A pending proposal's: the proposed file against the bottle's current one.
        public static func pending(_ file: ConfigFile) -> Comparison {
            Comparison(
                heading: "Diff against the current \(file.fileName)", old: "current", new: "proposed",
                warnsOfChange: true)
        }
    }

    /// The review as lines: summary, warning, diff — coloured if asked.
    /// - Parameter comparison: what the diff compares (default: a pending proposal against the current file).
    public func render(color: Bool, comparison: Comparison? = nil) -> [String] {
        func paint(_ code: String, _ text: String) -> String { color ? code + text + "\u{1B}[0m" : text }
        let comparison = comparison ?? .pending(proposal.tool.configFile)
        var lines: [String] = []
        if comparison.warnsOfChange, currentFileChanged {
            lines.append(
                paint(
                    "\u{1B}[1;31m",
                    "! the current file changed since this proposal was made: read the diff against it before deciding")
            )
        }
        lines += RiskHintLines.render(riskHints, color: color)
        lines.append("")
        lines.append(paint("\u{1B}[1m", "Summary"))
        lines += summary.map { "  " + $0 }
        lines.append("")
        let file = proposal.tool.configFile.fileName
        lines.append(
            paint("\u{1B}[1m", comparison.heading)
                + (currentFile == nil ? (comparison.warnsOfChange ? " (there is none yet)" : " (there was none)") : ""))
        let diff = UnifiedDiff(old: currentFile ?? "", new: proposal.proposedFile, clock: diffClock)
        if let summary = diff.summary {
            lines.append(
                "  too large to compare line by line within \(Self.milliseconds(UnifiedDiff.defaultBudget)): \(summary)")
            return lines
        }
        lines.append(paint("\u{1B}[1m", "--- \(comparison.old)/\(file)"))
        lines.append(paint("\u{1B}[1m", "+++ \(comparison.new)/\(file)"))
        for line in diff.lines {
            switch line {
            case .hunk(let text): lines.append(paint("\u{1B}[36m", text))
            case .context(let text): lines.append(" " + Escaped(text).description)
            case .removed(let text): lines.append(paint("\u{1B}[31m", "-" + Escaped(text).description))
            case .added(let text): lines.append(paint("\u{1B}[32m", "+" + Escaped(text).description))
            }
        }
        return lines
    }

    /// `300 ms` for a budget, as the operator reads it.
    static func milliseconds(_ duration: Duration) -> String {
        "\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000) ms"
    }

    private func listed(_ noun: String, added: Set<String>, removed: Set<String>) -> [String] {
        var lines = added.sorted().map { "\(noun) added: \(Escaped($0))" }
        lines += removed.sorted().map { "\(noun) removed: \(Escaped($0))" }
        return lines.isEmpty ? ["no \(noun)s added or removed"] : lines
    }

    /// A route's identity: its `path`, `prefix`, `name` or `host` member if it has one, else its whole JSON.
    static func routeKey(_ route: JSONValue) -> String {
        for member in ["path", "prefix", "name", "host"] {
            if case .string(let value)? = route[member] { return "\(member) \(value)" }
        }
        return route.description
    }
}
