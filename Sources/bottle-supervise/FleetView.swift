import Console
import Fleet
import Foundation
import Queue
import Risk

/// `list --database` and `show --database`: every host's proposals as their
/// relays mirrored them into the fleet's database. Agent text is escaped as
/// in the local commands; the diff is against the bottle's current file as
/// its host mirrored it.
enum FleetView {
    /// How many proposals `list --database` shows when `--limit` is not given.
    static let defaultLimit = 200

    /// Which page of the fleet's proposals `list --database` shows.
    struct PageRequest: Sendable {
        var host: FleetHostName?
        var bottle: BottleSlug?
        /// Decided and archived proposals too.
        var all = false
        var limit = defaultLimit
        var offset = 0
    }

    /// A page of the fleet's proposals: pending (with `all`, decided and
    /// archived too), oldest first; when there is more than the page, a line
    /// saying which are shown of how many and how to see the others.
    static func list(database: FleetDatabaseSettings, page request: PageRequest, json: Bool) async throws {
        let page = try await FleetDecision.connected(database) { store in
            try await store.pendingPage(
                host: request.host, bottle: request.bottle, includeDecided: request.all, limit: request.limit,
                offset: request.offset)
        }
        if json {
            print(FleetListJSON.render(page))
            return
        }
        var out = table(page.rows, now: Date(), all: request.all)
        if page.offset > 0 || page.hasMore(limit: request.limit) { out += pagerLine(page, request) + "\n" }
        print(out, terminator: "")
    }

    /// "showing 1–200 of 100,000 pending proposals, oldest first; narrow with --host or --bottle, or the next
    /// page: --offset 200".
    static func pagerLine(_ page: FleetPendingPage, _ request: PageRequest) -> String {
        var line = "showing \(page.shown) \(request.all ? "" : "pending ")proposals, oldest first; narrow with --host or --bottle"
        if page.hasMore(limit: request.limit) {
            line += ", or the next page: --offset \(page.offset + page.rows.count)"
            if request.limit != defaultLimit { line += " --limit \(request.limit)" }
        } else {
            line += " (the last page)"
        }
        return line
    }

    /// The `list --database` table: `list`'s columns, led by the host.
    static func table(_ rows: [FleetProposalRow], now: Date, all: Bool) -> String {
        guard !rows.isEmpty else { return all ? "no proposals in the fleet\n" : "no pending proposals in the fleet\n" }
        var out =
            TextLayout.pad("HOST", 16) + TextLayout.pad("ID", 30) + TextLayout.pad("BOTTLE", 20)
            + TextLayout.pad("TOOL", 18) + TextLayout.pad("AGE", 6) + TextLayout.pad("STATE", 22)
            + TextLayout.pad("RISK", 9) + "JUSTIFICATION\n"
        for row in rows {
            TextLayout.appendPadded(row.host.rawValue, 16, to: &out)
            TextLayout.appendPadded(row.id.rawValue, 30, to: &out)
            TextLayout.appendPadded(row.bottle.rawValue, 20, to: &out)
            TextLayout.appendPadded(row.tool.rawValue, 18, to: &out)
            TextLayout.appendPadded(ConsoleView.age(of: row.createdAt, now: now), 6, to: &out)
            TextLayout.appendPadded(state(of: row), 22, to: &out)
            TextLayout.appendPadded(RiskHintLines.column(row.riskHints), 9, to: &out)
            if row.decision == nil, let problem = row.problem { out += "[\(Escaped(problem))] " }
            out += Escaped(ListTable.firstLine(of: row.justification)).description + "\n"
        }
        return out
    }

    /// `pending`, `waiting`, `approved`, `approved (awaiting)` (not applied on its host yet), …
    static func state(of row: FleetProposalRow) -> String {
        guard let decision = row.decision else {
            return row.archived ? "no decision" : row.waiting ? "waiting" : "pending"
        }
        switch decision.delivery {
        case .delivered: return decision.status.rawValue
        case .awaitingHost: return "\(decision.status.rawValue) (awaiting)"
        case .superseded: return "\(decision.status.rawValue) (on host)"
        case .refused: return "\(decision.status.rawValue) (refused)"
        }
    }

    /// One proposal of the fleet, as `show` reviews a local one.
    static func show(_ idText: String, database: FleetDatabaseSettings, host: FleetHostName?, json: Bool) async throws {
        let (row, hostRow) = try await FleetDecision.connected(database) { store in
            let row = try await FleetDecision.locate(idText, host: host, in: store)
            return (row, try await store.hosts().first { $0.host == row.host })
        }
        if json {
            print(FleetListJSON.encode(FleetListJSON.item(row)))
            return
        }
        print(render(row, host: hostRow, database: database, color: useColor()))
    }

    static func render(_ row: FleetProposalRow, host: FleetHostRow?, database: FleetDatabaseSettings, color: Bool) -> String {
        var lines = [
            "proposal  \(row.id)",
            "host      \(row.host)" + (host.map { "  (" + hostLine($0, now: Date()) + ")" } ?? ""),
            "bottle    \(row.bottle)",
            "tool      \(row.tool.rawValue) → \(row.tool.configFile.fileName)",
            "created   \(Timestamp.format(row.createdAt))",
            "state     \(stateLine(of: row))",
            "sha256    \(row.proposalSHA256)",
        ]
        // The role the database authenticated for the decision (set by the database, not the writer):
        // `decided_by` is a name the claimant chose.
        if let role = row.decision?.claimedRole {
            lines.insert("recorded  by database role \"\(Escaped(role))\"", at: lines.count - 1)
        }
        if let problem = row.problem, row.decision == nil {
            lines.append("refused   \(Escaped(problem)) — approving it will be refused")
        }
        // What the owning host asks for (a decider may ask more with its own [fleet] approvals).
        let needed = ApprovalRequirement(for: row, applying: row.proposedFile, threshold: ApprovalThreshold())
        if row.isPending, needed.count > 1 { lines.append("approvals \(needed.needs)") }
        lines += Show.justification(row.justification, color: color)
        if let proposal = try? QueueFormat.decode(Proposal.self, from: row.proposal, path: "\(row.host)/\(row.bottle)/\(row.id)") {
            lines += ProposalReview(proposal: proposal, currentFile: row.currentFile).render(color: color)
        }
        if let decision = row.decision, decision.status == .modified, let final = decision.finalFile {
            lines.append("")
            lines.append("Approved as modified:")
            lines += Escaped(final, keepLayout: true).description.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "  " + $0 }
        }
        if row.isPending {
            lines.append("")
            lines.append(
                "To decide exactly what is shown: bottle-supervise approve \(row.id) --host \(row.host) "
                    + "--database \(database.redactedURL) --expect-sha256 \(row.proposalSHA256)")
        }
        return lines.joined(separator: "\n")
    }

    /// The host's relay and audit chain as the database last heard of them:
    /// "relay seen 2m ago; audit chain 1,204 records, head 3f2a…".
    static func hostLine(_ host: FleetHostRow, now: Date) -> String {
        let chain =
            // Escaped: the column is text any role that can write fleet_hosts may have set.
            host.auditHead.map { "audit chain \(FleetPendingPage.grouped(host.auditRecords)) records, head \(Escaped(String($0.prefix(12))))…" }
            ?? "audit chain not sent yet"
        return "relay seen \(ConsoleView.age(of: host.lastSeen, now: now)) ago; \(chain)"
    }

    /// The state in words: pending (is the agent waiting?), or the decision, who made it and where it stands.
    static func stateLine(of row: FleetProposalRow) -> String {
        guard let decision = row.decision else {
            return row.archived
                ? "withdrawn or expired without a decision"
                : row.waiting ? "pending; the agent is waiting" : "pending; the agent is not connected"
        }
        var line = "\(decision.status.rawValue) by \(Escaped(decision.decidedBy)) at \(Timestamp.format(decision.decidedAt))"
        if !decision.notes.isEmpty { line += " (notes: \(Escaped(decision.notes)))" }
        switch decision.delivery {
        case .awaitingHost: line += "; not applied on host \(row.host) yet: its relay applies it when it runs"
        case .delivered: line += decision.applySummary.map { "; on host \(row.host): \(Escaped($0))" } ?? ""
        case .superseded:
            line += "; decided on host \(row.host) first"
                + (decision.supersededClaim.map { " (the decision through the database, \(Escaped($0)), was not applied)" } ?? "")
        case .refused: line += "; host \(row.host) refused it: \(Escaped(decision.reason ?? "no reason given"))"
        }
        return line
    }
}

/// `list --database --json`: `{"format": 1, "proposals": [...]}`, each as `list --json`'s fields plus the host
/// and where the decision stands (docs/fleet.md).
enum FleetListJSON {
    struct Document: Encodable {
        let format = 1
        let proposals: [Item]
        /// How many matching proposals come before these (`list --database --offset`).
        let offset: Int
        /// How many pending proposals match in all; `null` with `--all` (not counted).
        let total: Int?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(format, forKey: .format)
            try container.encode(proposals, forKey: .proposals)
            try container.encode(offset, forKey: .offset)
            try container.encode(total, forKey: .total)
        }

        enum CodingKeys: String, CodingKey { case format, proposals, offset, total }
    }

    struct Item: Encodable {
        let host: String
        let id: String
        let bottle: String
        let tool: String
        let file: String
        let createdAt: String
        let expiresAt: String?
        let state: String
        let waiting: Bool
        let archived: Bool
        let justification: String
        let proposalSHA256: String
        let currentFileSHA256: String?
        let problem: String?
        let riskHints: [RiskHint]
        let highestRisk: RiskSeverity?
        let decidedBy: String?
        let decidedAt: String?
        let notes: String?
        let answer: String?
        let delivery: String?
        let apply: String?
        let applySummary: String?
        let reason: String?

        enum CodingKeys: String, CodingKey {
            case host, id, bottle, tool, file, state, waiting, archived, justification, problem, notes, answer
            case delivery, apply, reason
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case proposalSHA256 = "proposal_sha256"
            case currentFileSHA256 = "current_file_sha256"
            case riskHints = "risk_hints"
            case highestRisk = "highest_risk"
            case decidedBy = "decided_by"
            case decidedAt = "decided_at"
            case applySummary = "apply_summary"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(host, forKey: .host)
            try container.encode(id, forKey: .id)
            try container.encode(bottle, forKey: .bottle)
            try container.encode(tool, forKey: .tool)
            try container.encode(file, forKey: .file)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(state, forKey: .state)
            try container.encode(waiting, forKey: .waiting)
            try container.encode(archived, forKey: .archived)
            try container.encode(justification, forKey: .justification)
            try container.encode(proposalSHA256, forKey: .proposalSHA256)
            try container.encode(currentFileSHA256, forKey: .currentFileSHA256)
            try container.encode(problem, forKey: .problem)
            try container.encode(riskHints, forKey: .riskHints)
            try container.encode(highestRisk, forKey: .highestRisk)
            try container.encode(decidedBy, forKey: .decidedBy)
            try container.encode(decidedAt, forKey: .decidedAt)
            try container.encode(notes, forKey: .notes)
            try container.encode(answer, forKey: .answer)
            try container.encode(delivery, forKey: .delivery)
            try container.encode(apply, forKey: .apply)
            try container.encode(applySummary, forKey: .applySummary)
            try container.encode(reason, forKey: .reason)
        }
    }

    static func render(_ page: FleetPendingPage) -> String {
        encode(Document(proposals: page.rows.map(item), offset: page.offset, total: page.total))
    }

    static func item(_ row: FleetProposalRow) -> Item {
        let decision = row.decision
        return Item(
            host: row.host.rawValue, id: row.id.rawValue, bottle: row.bottle.rawValue, tool: row.tool.rawValue,
            file: row.tool.configFile.fileName, createdAt: Timestamp.format(row.createdAt),
            expiresAt: row.expiresAt.map(Timestamp.format),
            state: decision?.status.rawValue ?? (row.archived ? "undecided" : "pending"), waiting: row.waiting,
            archived: row.archived, justification: row.justification, proposalSHA256: row.proposalSHA256,
            currentFileSHA256: row.currentSHA256, problem: decision == nil ? row.problem : nil, riskHints: row.riskHints,
            highestRisk: row.riskHints.highestSeverity, decidedBy: decision?.decidedBy,
            decidedAt: decision.map { Timestamp.format($0.decidedAt) }, notes: decision?.notes, answer: decision?.answer,
            delivery: decision?.delivery.rawValue, apply: decision?.applyState?.rawValue,
            applySummary: decision?.applySummary, reason: decision?.reason)
    }

    static func encode(_ document: some Encodable) -> String { ListJSON.encode(document) }
}
