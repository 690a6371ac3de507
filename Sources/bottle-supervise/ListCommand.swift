import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Queue
import Risk
import SidecarCommandLine

/// `bottle-supervise list`: pending proposals of every bottle, for people and scripts.
struct List: AsyncParsableCommand {
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

    @OptionGroup var fleet: FleetDatabaseOptions

    @Option(
        name: .customLong("host"),
        help: ArgumentHelp("With --database: only this host's proposals.", valueName: "name"))
    var host: FleetHostArgument?

    @Option(
        name: .customLong("bottle"),
        help: ArgumentHelp("With --database: only this bottle's proposals (on every host, or --host's).", valueName: "slug"))
    var bottle: String?

    @Option(
        help: ArgumentHelp(
            "With --database: show at most this many proposals, oldest first (default \(FleetView.defaultLimit), at most \(FleetStore.pageLimit)).",
            valueName: "count"))
    var limit: Int?

    @Option(
        help: ArgumentHelp("With --database: skip this many of the oldest first (the next page: --offset 200).", valueName: "count"))
    var offset: Int?

    func validate() throws {
        try FleetDecision.validate(database: fleet.database, host: host != nil, hostOnly: [:])
        // A bad value is named first, whatever else is missing: it is the one thing to fix in it.
        if let bottle, (try? BottleSlug(bottle)) == nil {
            throw ValidationError("--bottle \(Escaped(bottle)) is not a bottle name (letters, digits, '.', '-', '_')")
        }
        if let limit, !(1...FleetStore.pageLimit).contains(limit) {
            throw ValidationError("--limit must be from 1 to \(FleetStore.pageLimit), not \(limit)")
        }
        if let offset, offset < 0 { throw ValidationError("--offset must be 0 or more, not \(offset)") }
        for (flag, given) in [("--bottle", bottle != nil), ("--limit", limit != nil), ("--offset", offset != nil)]
        where given && fleet.database == nil {
            throw ValidationError("\(flag) pages through the fleet's proposals: it needs --database")
        }
    }

    func run() async throws {
        if let database = try fleet.settings() {
            try await FleetView.list(
                database: database,
                page: FleetView.PageRequest(
                    host: host?.name, bottle: try bottle.map { try BottleSlug($0) }, all: all,
                    limit: limit ?? FleetView.defaultLimit, offset: offset ?? 0),
                json: json)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // risk hints and the recovery of interrupted applies read it
        await locations.endOverdueGrants(command: "list")
        let root = QueueRoot(locations.queueRoot)
        let configRoot = ConfigRoot(locations.configRoot)
        var rows: [ListedProposal] = []
        var unreadable: [QueueError] = []
        // Saved after the output is written: the operator need not wait for it.
        var save: (() -> Void)?
        do {
            let bottles = try root.scanBottles()
            unreadable += bottles.skipped
            if all {
                locations.finishInterruptedApplies(command: "list")
                var entries: [QueueEntry] = []
                for archived in [false, true] {
                    for result in root.scan(bottles.bottles, archived: archived) {
                        let scan = try result.get()
                        unreadable += scan.unreadable
                        entries += scan.entries
                    }
                }
                // Pending: against the bottle's current file. Decided: as `show` weighs it, the final
                // file against the one it replaced (after an approval the current file *is* the proposal).
                let hints = RiskOfEntries(configRoot: configRoot).hints(for: entries)
                rows = zip(entries, hints).map { entry, hints in
                    ListedProposal(
                        entry,
                        riskHints: entry.decision.map {
                            DecisionReview(proposal: entry.proposal, decision: $0, configRoot: locations.configRoot)
                                .riskHints
                        } ?? hints)
                }
                rows.sort(by: ListedProposal.oldestFirst)
            } else {
                let cache = ListingCache.load(
                    queueRoot: locations.queueRoot, environment: ProcessInfo.processInfo.environment)
                let listing = FleetListing(queueRoot: root, configRoot: configRoot, cache: cache).pending(
                    of: bottles.bottles)
                // After the listing, not before: it names the bottles with decision files, the only
                // ones where an apply can have been cut off; finishing one changes no pending row.
                locations.finishInterruptedApplies(command: "list", decisionsIn: listing.bottlesWithDecisions)
                rows = listing.rows
                unreadable += listing.unreadable
                save = { cache.keep(listing) }
            }
        } catch {
            throw Failure.failed(error.description)
        }
        for error in unreadable {
            FileHandle.standardError.write(Data("bottle-supervise list: skipped \(Escaped(error.description))\n".utf8))
        }
        if json {
            print(ListJSON.render(rows))
        } else {
            print(ListTable.render(rows, color: useColor(), now: Date(), includingDecided: all), terminator: "")
        }
        save?()
        // Done: exit here rather than return. Returning frees every row, record and
        // string one by one on the way out (5 % of `list` at 10,000 proposals), memory
        // the process hands back whole when it ends. exit(3) flushes standard output.
        Foundation.exit(0)
    }
}

/// The `list` table: one line per proposal, agent text escaped.
enum ListTable {
    /// - Parameter includingDecided: the table is `list --all`'s, so an empty one says "no proposals".
    static func render(_ rows: [ListedProposal], color: Bool, now: Date, includingDecided: Bool = false) -> String {
        guard !rows.isEmpty else { return includingDecided ? "no proposals\n" : "no pending proposals\n" }
        var out =
            TextLayout.pad("ID", 30) + TextLayout.pad("BOTTLE", 20) + TextLayout.pad("TOOL", 18)
            + TextLayout.pad("AGE", 6) + TextLayout.pad("STATE", 16) + TextLayout.pad("RISK", 9) + "JUSTIFICATION\n"
        if color { out = "\u{1B}[1m" + out.dropLast() + "\u{1B}[0m\n" }
        out.reserveCapacity(out.utf8.count + rows.count * 140)
        for row in rows {
            // A standing rule's decision says so (`rule:approved`); show and log name the rule.
            let state =
                row.decision.map { ($0.decidingRule != nil ? "rule:" : "") + $0.status.rawValue }
                ?? (row.archived ? "no decision" : row.problem != nil ? "refused" : ListTable.attendance(of: row, now: now))
            TextLayout.appendPadded(row.id.rawValue, 30, to: &out)
            TextLayout.appendPadded(row.bottle.rawValue, 20, to: &out)
            TextLayout.appendPadded(row.tool.rawValue, 18, to: &out)
            TextLayout.appendPadded(ConsoleView.age(of: row.createdAt, now: now), 6, to: &out)
            TextLayout.appendPadded(state, 16, to: &out)
            TextLayout.appendPadded(RiskHintLines.column(row.riskHints), 9, to: &out)
            if row.decision == nil, let problem = row.problem { out += "[\(Escaped(problem))] " }
            out += Escaped(ListTable.firstLine(of: row.justification)).description
            out += "\n"
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
    static func attendance(of row: ListedProposal, now: Date) -> String {
        if row.waiting { return "waiting" }
        guard let stopped = row.stoppedWaitingAt else { return "pending" }
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
        /// Who made the decision file as the host judged it: `host`, `sidecar`, `unsigned` (docs/security.md).
        let decisionOrigin: String?
        let decidedAt: String?
        let notes: String?
        let answer: String?
        let apply: String?
        let proposalSHA256: String?
        let problem: String?
        let riskHints: [RiskHint]

        enum CodingKeys: String, CodingKey {
            case id, bottle, tool, file, state, waiting, archived, justification, notes, answer, apply, problem
            case proposalSHA256 = "proposal_sha256"
            case riskHints = "risk_hints"
            case highestRisk = "highest_risk"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case currentFileSHA256 = "current_file_sha256"
            case proposedFileSHA256 = "proposed_file_sha256"
            case decidedBy = "decided_by"
            case decisionOrigin = "decision_origin"
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
            try container.encode(decisionOrigin, forKey: .decisionOrigin)
            try container.encode(decidedAt, forKey: .decidedAt)
            try container.encode(notes, forKey: .notes)
            try container.encode(answer, forKey: .answer)
            try container.encode(apply, forKey: .apply)
            try container.encode(proposalSHA256, forKey: .proposalSHA256)
            try container.encode(problem, forKey: .problem)
            try container.encode(riskHints, forKey: .riskHints)
            try container.encode(riskHints.highestSeverity, forKey: .highestRisk)
        }
    }

    static func render(_ rows: [ListedProposal]) -> String {
        encode(Document(proposals: rows.map(item)))
    }

    /// One proposal's fields.
    static func item(_ row: ListedProposal) -> Item {
        Item(
            id: row.id.rawValue, bottle: row.bottle.rawValue, tool: row.tool.rawValue,
            file: row.tool.configFile.fileName, createdAt: Timestamp.format(row.createdAt),
            expiresAt: row.expiresAt.map(Timestamp.format),
            state: row.decision?.status.rawValue ?? (row.archived ? "undecided" : "pending"),
            waiting: row.waiting, stoppedWaitingAt: row.stoppedWaitingAt.map(Timestamp.format),
            archived: row.archived, justification: row.justification, currentFileSHA256: row.currentFileSHA256,
            proposedFileSHA256: row.proposedFileSHA256, decidedBy: row.decision?.decidedBy,
            decisionOrigin: row.decision?.origin.rawValue,
            decidedAt: row.decision.map { Timestamp.format($0.decidedAt) }, notes: row.decision?.notes,
            answer: row.decision?.answer,
            apply: row.decision?.apply?.state.rawValue, proposalSHA256: row.proposalSHA256,
            problem: row.decision == nil ? row.problem : nil, riskHints: row.riskHints)
    }

    /// `document` as pretty, key-sorted JSON, every string escaped for a terminal.
    static func encode(_ document: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        // JSONEncoder leaves DEL, C1 (U+009B is a CSI), bidi and zero-width characters raw.
        return Escaped.json(String(decoding: data, as: UTF8.self))
    }
}
