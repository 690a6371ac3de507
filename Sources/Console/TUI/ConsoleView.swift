import Apply
import Foundation
import Queue

/// Draws a ``ConsoleModel`` as exactly one screenful of lines.
///
/// Every piece of agent-written text passes through ``Escaped`` here (or was
/// escaped by the review renderer), and every line is fitted to the width,
/// so nothing the agent wrote can move the cursor or spill past the edge.
public struct ConsoleView {
    /// Whether to use colour and reverse video.
    public var color: Bool

    public init(color: Bool = true) {
        self.color = color
    }

    /// The screen's lines, top to bottom, each at most `size.columns` cells.
    public func render(_ model: ConsoleModel, size: Terminal.Size, now: Date = Date()) -> [String] {
        let rows = max(size.rows, 4)
        let columns = max(size.columns, 20)
        let bodyRows = rows - 3
        var lines: [String] = [title(model, columns)]
        switch model.underlyingOrSelf {
        case .detail: lines += detail(model, rows: bodyRows, columns: columns)
        case .grants: lines += grants(model, rows: bodyRows, columns: columns, now: now)
        default: lines += list(model, rows: bodyRows, columns: columns, now: now)
        }
        if model.screen == .help {
            lines = overlayHelp(lines, columns: columns)
        }
        lines.append(messageLine(model, columns))
        lines.append(footer(model, columns))
        return lines.map { TextLayout.fit($0, columns) }
    }

    // MARK: - Parts

    /// The grants screen: one line per live grant, soonest end first.
    private func grants(_ model: ConsoleModel, rows: Int, columns: Int, now: Date) -> [String] {
        var lines = [
            style(
                ANSI.bold,
                "  " + TextLayout.pad("LEFT", 10) + TextLayout.pad("BOTTLE", 18) + TextLayout.pad("FILE", 12)
                    + TextLayout.pad("GRANT", 30) + "HOLDS")
        ]
        if model.grants.isEmpty {
            lines.append("  No live grants. An approval for 1 hour or 8 hours (1, 8 at its question) appears here.")
        }
        let selected = model.selectedGrant?.id
        for grant in model.grants.prefix(max(0, rows - 1)) {
            let left = GrantDuration.left(until: grant.expiresAt, now: now) + (grant.endError != nil ? "!" : "")
            let text =
                (grant.id == selected ? "▶ " : "  ") + TextLayout.pad(left, 10) + TextLayout.pad(grant.bottle.rawValue, 18)
                + TextLayout.pad(grant.file.fileName, 12) + TextLayout.pad(grant.id.rawValue, 30)
                + Escaped(grant.holdings.summary.joined(separator: ", ")).description
            lines.append(grant.id == selected ? style(ANSI.reverse, TextLayout.pad(text, columns)) : text)
        }
        while lines.count < rows { lines.append("") }
        return lines
    }

    private func title(_ model: ConsoleModel, _ columns: Int) -> String {
        title(model.pendingSummary, filter: model.filter, columns)
    }

    private func title(_ summary: (proposals: Int, bottles: Int), filter: String, _ columns: Int) -> String {
        var text =
            " Bottle Supervise — \(summary.proposals) pending in \(summary.bottles) bottle\(summary.bottles == 1 ? "" : "s")"
        if !filter.isEmpty { text += "   filter: \(Escaped(filter))" }
        return style(ANSI.reverse + ANSI.bold, TextLayout.pad(text, columns))
    }

    private func list(_ model: ConsoleModel, rows: Int, columns: Int, now: Date) -> [String] {
        let visible = model.visible
        let selectedID = model.selected?.proposal.id
        return list(
            visible.map { ListRow($0, now: now) }, selected: visible.firstIndex { $0.proposal.id == selectedID } ?? 0,
            empty: Self.emptyText(noProposals: model.entries.isEmpty, filter: model.filter), rows: rows,
            columns: columns)
    }

    /// What the list says when no row is on show.
    private static func emptyText(noProposals: Bool, filter: String) -> String {
        noProposals
            ? "  No pending proposals. New ones appear here as agents ask."
            : "  Nothing matches the filter \"\(Escaped(filter))\" (Esc clears it)."
    }

    /// One line of the list, from a loaded entry or a listing's row alike.
    private struct ListRow {
        let age: String
        let bottle: String
        let tool: String
        let state: String
        let justification: String
        let decided: Bool

        init(_ entry: QueueEntry, now: Date) {
            age = ConsoleView.age(of: entry.proposal.createdAt, now: now)
            bottle = entry.proposal.bottle.rawValue
            tool = entry.proposal.tool.rawValue
            state = ConsoleView.state(
                decision: entry.decision, expired: entry.proposal.isExpired(at: now), problem: entry.problem,
                waiting: entry.waiting, stoppedWaitingAt: entry.stoppedWaitingAt)
            justification = entry.proposal.justification
            decided = entry.decision != nil
        }

        init(_ row: ListedProposal, now: Date) {
            age = ConsoleView.age(of: row.createdAt, now: now)
            bottle = row.bottle.rawValue
            tool = row.tool.rawValue
            state = ConsoleView.state(
                decision: row.decision, expired: row.isExpired(at: now), problem: row.problem,
                waiting: row.waiting, stoppedWaitingAt: row.stoppedWaitingAt)
            justification = row.justification
            decided = row.decision != nil
        }
    }

    private func list(_ visible: [ListRow], selected selectedIndex: Int, empty: String, rows: Int, columns: Int)
        -> [String]
    {
        let header =
            "  " + TextLayout.pad("AGE", 6) + TextLayout.pad("BOTTLE", 18) + TextLayout.pad("TOOL", 18)
            + TextLayout.pad("STATE", 11) + "JUSTIFICATION"
        var lines = [style(ANSI.dim, header)]
        if visible.isEmpty {
            lines.append("")
            lines.append(empty)
        } else {
            let capacity = rows - 1
            let first = max(0, min(selectedIndex - capacity / 2, visible.count - capacity))
            for (index, entry) in visible.enumerated().dropFirst(first).prefix(capacity) {
                let isSelected = index == selectedIndex
                let justification =
                    entry.justification.split(separator: "\n", omittingEmptySubsequences: true).first.map(
                        String.init) ?? ""
                var row = (isSelected ? "▶ " : "  ") + TextLayout.pad(entry.age, 6)
                row += TextLayout.pad(entry.bottle, 17) + " "
                row += TextLayout.pad(entry.tool, 17) + " "
                row += TextLayout.pad(entry.state, 10) + " "
                row += Escaped(justification).description
                if isSelected {
                    lines.append(style(ANSI.reverse, TextLayout.pad(row, columns)))
                } else if entry.decided {
                    lines.append(style(ANSI.dim, row))
                } else {
                    lines.append(row)
                }
            }
        }
        return fill(lines, rows)
    }

    /// The first screen drawn from a listing (``FleetListing``: the
    /// ``ListingCache``'s records, and the files that changed since) while
    /// the console reads every proposal in full, which at a thousand
    /// bottles takes a moment longer. The same lines the loaded model gives
    /// for the same queue (`TUI: first screen` holds them to that): title,
    /// rows with the first pending one selected, footer. Keys wait for the
    /// loaded model; none is lost.
    /// - Parameter model: the console's model before its first load: its filter and message are shown.
    public func renderPreview(_ listed: [ListedProposal], model: ConsoleModel, size: Terminal.Size, now: Date = Date())
        -> [String]
    {
        let visible = listed.filter { ConsoleModel.passes(model.filter, bottle: $0.bottle, tool: $0.tool) }
        let rows = max(size.rows, 4)
        let columns = max(size.columns, 20)
        var lines = [title((listed.count, Set(listed.map(\.bottle)).count), filter: model.filter, columns)]
        lines += list(
            visible.map { ListRow($0, now: now) }, selected: 0,
            empty: Self.emptyText(noProposals: listed.isEmpty, filter: model.filter), rows: rows - 3, columns: columns)
        lines.append(messageLine(model, columns))
        let decidable = visible.first.map { $0.decision == nil && !$0.isExpired(at: now) } ?? false
        lines.append(style(ANSI.reverse, TextLayout.pad(Self.listKeys(decidable: decidable), columns)))
        return lines.map { TextLayout.fit($0, columns) }
    }

    private func detail(_ model: ConsoleModel, rows: Int, columns: Int) -> [String] {
        let body = Array(model.detailLines.dropFirst(model.detailScroll).prefix(rows))
        return fill(body, rows)
    }

    private func overlayHelp(_ lines: [String], columns: Int) -> [String] {
        let help = [
            "Keys",
            "  ↑ ↓  j k      select a proposal / scroll the detail view",
            "  PgUp PgDn     page",
            "  Enter         review: justification, summary and diff against the current file",
            "  a             approve as proposed (asks to confirm)",
            "  m             modify: edit the proposed file in $VISUAL / $EDITOR, then confirm",
            "  A             approve and remember: a standing rule for exactly these hosts/routes here",
            "  r             reject (notes required, unless a preset answer is chosen)",
            "  p             pick a preset answer ([answers]); again for the next, past the last: none",
            "  n             notes to send with your decision",
            "  /             filter by bottle or tool;  Esc clears it",
            "  g             live grants: x revokes one, e / E extend it to 1 / 8 hours from now",
            "  Esc  q        back to the list;  q in the list quits;  Ctrl-C quits",
            "",
            "Decisions go through the queue's exactly-one rule: if another operator",
            "decided first, you are told so and nothing is overwritten.",
            "",
            "Press any key to close this help.",
        ]
        var result = lines
        for (offset, line) in help.enumerated() where offset + 2 < result.count {
            result[offset + 2] = style(ANSI.bold, TextLayout.pad("  " + line, columns))
        }
        return result
    }

    private func messageLine(_ model: ConsoleModel, _ columns: Int) -> String {
        switch model.screen {
        case .input(let purpose, let text):
            let prompt =
                switch purpose {
                case .filter: "Filter (bottle or tool): "
                case .rejectNotes: "Reject — notes for the agent (required): "
                case .notes: "Notes for the agent: "
                }
            return style(ANSI.bold, prompt) + Escaped(text).description + "▏"
        default:
            guard let message = model.message else { return "" }
            // Messages quote queue values and error texts: escaped here, whoever made them.
            return style(message.isError ? ANSI.red + ANSI.bold : ANSI.yellow, Escaped(message.text).description)
        }
    }

    private func footer(_ model: ConsoleModel, _ columns: Int) -> String {
        // Keys that decide are offered only for a proposal that can still be decided.
        let decide = model.selectedIsDecidable ? "  a approve  A +remember  m modify  r reject  p answer  n notes" : ""
        let keys =
            switch model.screen {
            case .detail:
                (model.selectedIsDecidable ? "" : " \(model.selected.map(state) ?? "decided"): nothing to decide ")
                    + decide + "  ↑↓ PgUp PgDn scroll  Esc back  ? help"
            case .input: " Enter confirm  Esc cancel"
            case .confirm:
                model.selectedIsGrantable
                    ? " y yes (the bottle's default duration)  "
                        + ConsoleModel.grantKeys.map { "\($0.key) \($0.label)" }.joined(separator: "  ") + "  n no"
                    : " y yes  n no"
            case .help: " any key closes help"
            case .list: Self.listKeys(decidable: model.selectedIsDecidable)
            case .grants:
                " x revoke  " + ConsoleModel.extendKeys.map { "\($0.key) extend to \($0.label) from now" }
                    .joined(separator: "  ") + "  ↑↓ select  Esc back"
            }
        return style(ANSI.reverse, TextLayout.pad(keys, columns))
    }

    /// The list's footer.
    private static func listKeys(decidable: Bool) -> String {
        " ↑↓ select  Enter review" + (decidable ? "  a approve  A +remember  m modify  r reject  p answer  n notes" : "")
            + "  / filter  g grants  ? help  q quit"
    }

    // MARK: - Helpers

    private func state(of entry: QueueEntry) -> String {
        Self.state(
            decision: entry.decision, expired: entry.proposal.isExpired(), problem: entry.problem,
            waiting: entry.waiting, stoppedWaitingAt: entry.stoppedWaitingAt)
    }

    private static func state(
        decision: Decision?, expired: Bool, problem: String?, waiting: Bool, stoppedWaitingAt: Date?
    ) -> String {
        if let decision { return decision.status.rawValue }
        if expired { return DecisionStatus.expired.rawValue }
        // The host would refuse to apply it (hash field forged, file invalid): say so before anyone tries.
        if problem != nil { return "refused" }
        if waiting { return "waiting" }
        return stoppedWaitingAt == nil ? "pending" : "stopped"
    }

    private func style(_ sequence: String, _ text: String) -> String {
        color ? sequence + text + ANSI.reset : text
    }

    private func fill(_ lines: [String], _ rows: Int) -> [String] {
        Array(lines.prefix(rows)) + Array(repeating: "", count: max(0, rows - lines.count))
    }

    /// A short age: `42s`, `5m`, `3h`, `2d`.
    public static func age(of date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86400: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }
}

extension ConsoleModel {
    /// The screen the body shows: the one under an overlay, input or question.
    var underlyingOrSelf: Screen {
        switch screen {
        case .help, .input, .confirm: underlying
        default: screen
        }
    }
}
