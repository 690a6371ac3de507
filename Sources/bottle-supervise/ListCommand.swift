import Apply
import ArgumentParser
import Console
import Foundation
import Queue

/// `bottle-supervise list`: pending proposals of every bottle, for people and scripts.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List pending proposals of every bottle, oldest first.",
        discussion: """
            Columns: id, bottle, tool, age, state (waiting: the agent's call is attached), the highest \
            risk hint (docs/risk-hints.md; `-` for none), and the first line of the justification. --all adds decided and archived proposals with their status. \
            --json prints one stable JSON document (see docs/console.md).
            """
    )

    @Flag(help: "Print JSON (documented in docs/console.md) instead of a table.")
    var json = false

    @Flag(help: "Include decided and archived proposals.")
    var all = false

    @OptionGroup var locations: HostLocationOptions

    func run() throws {
        try locations.requireQueueRoot()
        locations.finishInterruptedApplies(command: "list")
        let root = QueueRoot(locations.queueRoot)
        var entries: [QueueEntry] = []
        var unreadable: [QueueError] = []
        do {
            let bottles = try root.scanBottles()
            unreadable += bottles.skipped
            for result in root.scan(bottles.bottles, archived: false) {
                let live = try result.get()
                unreadable += live.unreadable
                entries += all ? live.entries : live.entries.filter(\.isPending)
            }
            if all {
                for result in root.scan(bottles.bottles, archived: true) {
                    let archived = try result.get()
                    unreadable += archived.unreadable
                    entries += archived.entries
                }
            }
        } catch {
            throw Failure.failed(error.description)
        }
        entries.sort { ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id) }
        for error in unreadable {
            FileHandle.standardError.write(Data("bottle-supervise list: skipped \(Escaped(error.description))\n".utf8))
        }
        let hints = RiskOfEntries(configRoot: ConfigRoot(locations.configRoot)).hints(for: entries)
        if json {
            print(ListJSON.render(entries, hints: hints))
        } else {
            print(
                ListTable.render(entries, hints: hints, color: useColor(), now: Date(), includingDecided: all),
                terminator: "")
        }
    }
}

/// The `list` table: one line per proposal, agent text escaped.
enum ListTable {
    /// - Parameter includingDecided: the table is `list --all`'s, so an empty one says "no proposals".
    static func render(
        _ entries: [QueueEntry], hints: [[RiskHint]], color: Bool, now: Date, includingDecided: Bool = false
    ) -> String {
        guard !entries.isEmpty else { return includingDecided ? "no proposals\n" : "no pending proposals\n" }
        var out =
            TextLayout.pad("ID", 30) + TextLayout.pad("BOTTLE", 20) + TextLayout.pad("TOOL", 18)
            + TextLayout.pad("AGE", 6) + TextLayout.pad("STATE", 13) + TextLayout.pad("RISK", 9) + "JUSTIFICATION\n"
        if color { out = "\u{1B}[1m" + out.dropLast() + "\u{1B}[0m\n" }
        for (entry, hints) in zip(entries, hints) {
            let state =
                entry.decision?.status.rawValue
                ?? (entry.problem != nil ? "refused" : ListTable.attendance(of: entry, now: now))
            let first = ListTable.firstLine(of: entry.proposal.justification)
            out +=
                TextLayout.pad(entry.proposal.id.rawValue, 30) + TextLayout.pad(entry.proposal.bottle.rawValue, 20)
                + TextLayout.pad(entry.proposal.tool.rawValue, 18)
                + TextLayout.pad(ConsoleView.age(of: entry.proposal.createdAt, now: now), 6)
                + TextLayout.pad(state, 13) + TextLayout.pad(RiskHintLines.column(hints), 9)
                + (entry.decision == nil ? entry.problem.map { "[\(Escaped($0))] " } ?? "" : "")
                + Escaped(first).description + "\n"
        }
        return out
    }

    /// The first line of `text` that is not empty: what the table shows of a
    /// justification. Found by scanning the bytes, not by splitting the whole
    /// text (a string separator goes through the regex module's searcher,
    /// the largest cost of rendering ten thousand rows).
    static func firstLine(of text: String) -> String {
        let utf8 = text.utf8
        guard let start = utf8.firstIndex(where: { $0 != UInt8(ascii: "\n") }) else { return "" }
        let end = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        return String(text[start..<end])
    }

    /// `waiting`, `stopped 12m` (the agent's call ended 12 minutes ago, as the
    /// queue's marker says) or `pending` (no call since the sidecar started).
    static func attendance(of entry: QueueEntry, now: Date) -> String {
        if entry.waiting { return "waiting" }
        guard let stopped = entry.stoppedWaitingAt else { return "pending" }
        return "stopped \(ConsoleView.age(of: stopped, now: now))"
    }
}

/// The `list --json` document: `{"format": 1, "proposals": [...]}`, fields in docs/console.md.
enum ListJSON {
    struct Document: Encodable {
        let format = 1
        let proposals: [Item]
    }

    struct Item: Encodable {
        let id: String
        let bottle: String
        let tool: String
        let file: String
        let createdAt: String
        let expiresAt: String?
        let state: String
        let waiting: Bool
        let stoppedWaitingAt: String?
        let archived: Bool
        let justification: String
        let currentFileSHA256: String?
        let proposedFileSHA256: String
        let decidedBy: String?
        let decidedAt: String?
        let notes: String?
        let apply: String?
        let proposalSHA256: String?
        let problem: String?
        let riskHints: [RiskHint]

        enum CodingKeys: String, CodingKey {
            case id, bottle, tool, file, state, waiting, archived, justification, notes, apply, problem
            case proposalSHA256 = "proposal_sha256"
            case riskHints = "risk_hints"
            case highestRisk = "highest_risk"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case currentFileSHA256 = "current_file_sha256"
            case proposedFileSHA256 = "proposed_file_sha256"
            case decidedBy = "decided_by"
            case decidedAt = "decided_at"
            case stoppedWaitingAt = "stopped_waiting_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(bottle, forKey: .bottle)
            try container.encode(tool, forKey: .tool)
            try container.encode(file, forKey: .file)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(state, forKey: .state)
            try container.encode(waiting, forKey: .waiting)
            try container.encode(stoppedWaitingAt, forKey: .stoppedWaitingAt)
            try container.encode(archived, forKey: .archived)
            try container.encode(justification, forKey: .justification)
            try container.encode(currentFileSHA256, forKey: .currentFileSHA256)
            try container.encode(proposedFileSHA256, forKey: .proposedFileSHA256)
            try container.encode(decidedBy, forKey: .decidedBy)
            try container.encode(decidedAt, forKey: .decidedAt)
            try container.encode(notes, forKey: .notes)
            try container.encode(apply, forKey: .apply)
            try container.encode(proposalSHA256, forKey: .proposalSHA256)
            try container.encode(problem, forKey: .problem)
            try container.encode(riskHints, forKey: .riskHints)
            try container.encode(riskHints.highestSeverity, forKey: .highestRisk)
        }
    }

    static func render(_ entries: [QueueEntry], hints: [[RiskHint]]) -> String {
        let items = zip(entries, hints).map { entry, hints in
            Item(
                id: entry.proposal.id.rawValue, bottle: entry.proposal.bottle.rawValue,
                tool: entry.proposal.tool.rawValue,
                file: entry.proposal.tool.configFile.fileName, createdAt: Timestamp.format(entry.proposal.createdAt),
                expiresAt: entry.proposal.expiresAt.map(Timestamp.format),
                state: entry.decision?.status.rawValue ?? "pending", waiting: entry.waiting,
                stoppedWaitingAt: entry.stoppedWaitingAt.map(Timestamp.format), archived: entry.archived,
                justification: entry.proposal.justification, currentFileSHA256: entry.proposal.currentFileSHA256,
                proposedFileSHA256: entry.proposal.proposedFileSHA256, decidedBy: entry.decision?.decidedBy,
                decidedAt: entry.decision.map { Timestamp.format($0.decidedAt) }, notes: entry.decision?.notes,
                apply: entry.decision?.apply?.state.rawValue, proposalSHA256: entry.proposalSHA256,
                problem: entry.decision == nil ? entry.problem : nil, riskHints: hints)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(proposals: items))) ?? Data("{}".utf8)
        // JSONEncoder leaves DEL, C1 (U+009B is a CSI), bidi and zero-width characters raw.
        return Escaped.json(String(decoding: data, as: UTF8.self))
    }
}
