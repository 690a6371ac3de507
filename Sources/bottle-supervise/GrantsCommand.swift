import Apply
import ArgumentParser
import Console
import Foundation
import Queue
import SidecarCommandLine

/// `bottle-supervise grants`: the live time-boxed grants, what each holds and the time left.
struct GrantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants",
        abstract: "List live time-boxed grants: what each holds and the time left.",
        discussion: """
            A grant is an approval given for a time (`approve ID --for 30m`); it is named by the proposal's id. \
            Columns: grant, bottle, file, time left, end (UTC), what it holds. --all adds ended grants with how \
            they ended. The ledger is <queue-root>/grants.json (docs/grants.md). Overdue grants are ended first.
            """
    )

    @Flag(help: "Print JSON (documented in docs/grants.md) instead of a table.")
    var json = false

    @Flag(help: "Include ended grants (expired or revoked).")
    var all = false

    @OptionGroup var locations: HostLocationOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // overdue grants are ended first, in the config root
        await locations.endOverdueGrants(command: "grants")
        let grants: [Grant]
        do {
            grants = try GrantLedger(queueRoot: locations.queueRoot).grants().filter { all || $0.isLive }
        } catch {
            throw Failure.failed("cannot read the grant ledger: \(error)")
        }
        let now = Date()
        if json {
            print(GrantsJSON.render(grants, now: now))
        } else {
            print(GrantsTable.render(grants, now: now, all: all), terminator: "")
        }
    }
}

/// `bottle-supervise revoke GRANT`: end a grant now.
struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End a time-boxed grant now: take out what it holds and reload, as its expiry would.",
        discussion: """
            What another live grant also holds stays until that one ends. Exit status: 0 ended; 1 failed \
            (the reload failed: the grant stays live and is tried again at its deadline); 2 the id names live \
            grants of several bottles (name one as SLUG/ID); 3 no live grant of that name.
            """
    )

    @Argument(
        help: "The grant: the id of the proposal whose approval made it (from `grants`), or SLUG/ID when bottles share it.")
    var grant: String

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "revoke", engine: apply.containerEngine)
        let name = try GrantName.parse(grant)
        let id = name.id
        let applier = Applier(
            configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: apply.containerEngine,
            logger: ApplyOptions.commandLogger)
        let end: Applier.GrantEnd
        do { end = try await applier.revokeGrant(id, bottle: name.bottle) } catch { throw GrantName.failure(error) }
        print("revoked \(id) (\(end.grant.file.fileName) for \(end.grant.bottle)): \(Escaped(end.outcome.summary))")
        if end.outcome.state != .applied {
            throw Failure.failed(
                end.outcome.outputTail.map { "the grant stays live; the reload's output ended with:\n\($0)" }
                    ?? "the grant stays live")
        }
    }
}

/// `bottle-supervise extend GRANT --for 1h`: lengthen a live grant.
struct Extend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lengthen a live time-boxed grant: it then ends the given time from now.",
        discussion: """
            The new end is counted from now, within the bottle's maximum ([grants] in supervise.toml). \
            Exit status: 0 extended; 1 refused (longer than the maximum); 2 the id names live grants of several \
            bottles (name one as SLUG/ID); 3 no live grant of that name.
            """
    )

    @Argument(
        help: "The grant: the id of the proposal whose approval made it (from `grants`), or SLUG/ID when bottles share it.")
    var grant: String

    @Option(
        name: .customLong("for"),
        help: ArgumentHelp("How long from now the grant lasts: 90s, 30m, 8h, 2d.", valueName: "duration"))
    var duration: String

    @OptionGroup var locations: HostLocationOptions

    func validate() throws {
        do { _ = try GrantDuration.parse(duration) } catch {
            throw ValidationError("--for: \(error)")
        }
    }

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "extend")
        let name = try GrantName.parse(grant)
        let id = name.id
        let length = try GrantDuration.parse(duration)
        let applier = Applier(
            configRoot: locations.configRoot, queueRoot: locations.queueRoot, logger: ApplyOptions.commandLogger)
        let extended: Grant
        do { extended = try await applier.extendGrant(id, bottle: name.bottle, by: length) } catch {
            throw GrantName.failure(error)
        }
        print(
            "extended \(id) (\(extended.file.fileName) for \(extended.bottle)): ends at "
                + "\(Timestamp.format(extended.expiresAt)) (in \(GrantDuration.left(until: extended.expiresAt, now: Date())))")
    }
}

/// A grant's name as typed: a proposal id, or `SLUG/ID` to say which bottle's
/// when live grants of several bottles share the id.
struct GrantName {
    var bottle: BottleSlug?
    var id: ProposalID

    static func parse(_ text: String) throws(Failure) -> GrantName {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        do {
            if parts.count == 2 { return GrantName(bottle: try BottleSlug(parts[0]), id: try ProposalID(parts[1])) }
            return GrantName(bottle: nil, id: try ProposalID(text))
        } catch {
            throw .notFound(
                "\(Escaped(text)) is not a grant: grants are named by proposal id, or SLUG/ID (see `grants`)")
        }
    }

    /// The failure an applier's grant lookup ends in, with its exit status.
    static func failure(_ error: any Error) -> Failure {
        switch error {
        case ApplyError.noSuchGrant(let name): .notFound(ApplyError.noSuchGrant(name).description)
        case let error as ApplyError: if case .ambiguousGrant = error { .usage(error.description) } else { .failed(error.description) }
        default: .failed("\(error)")
        }
    }
}

/// The `grants` table.
enum GrantsTable {
    static func render(_ grants: [Grant], now: Date, all: Bool) -> String {
        guard !grants.isEmpty else { return all ? "no grants\n" : "no live grants\n" }
        var out =
            TextLayout.pad("GRANT", 30) + TextLayout.pad("BOTTLE", 20) + TextLayout.pad("FILE", 12)
            + TextLayout.pad("LEFT", 12) + TextLayout.pad("ENDS", 26) + "HOLDS\n"
        for grant in grants {
            let left: String
            if let ended = grant.ended {
                left = ended.reason.rawValue
            } else {
                left = GrantDuration.left(until: grant.expiresAt, now: now) + (grant.endError != nil ? "!" : "")
            }
            out += TextLayout.pad(grant.id.rawValue, 30) + TextLayout.pad(grant.bottle.rawValue, 20)
            out += TextLayout.pad(grant.file.fileName, 12) + TextLayout.pad(left, 12)
            out += TextLayout.pad(Timestamp.format(grant.ended?.at ?? grant.expiresAt), 26)
            let holds = grant.holdings.summary
            out += Escaped(holds.isEmpty ? "(nothing: all of it approved for good since)" : holds.joined(separator: ", "))
                .description
            out += "\n"
            if let error = grant.endError, grant.isLive {
                out += "  could not end it: \(Escaped(error))\n"
            }
        }
        return out
    }
}

/// `grants --json`: one stable document (docs/grants.md).
enum GrantsJSON {
    struct Row: Encodable {
        var id: String
        var bottle: String
        var file: String
        var tool: String
        var state: String
        var grantedBy: String
        var grantedAt: String
        var expiresAt: String
        var secondsLeft: Int64
        var holdings: GrantHoldings
        var endedAt: String?
        var endedBy: String?
        var endSummary: String?
        var endError: String?

        enum CodingKeys: String, CodingKey {
            case id, bottle, file, tool, state, holdings
            case grantedBy = "granted_by"
            case grantedAt = "granted_at"
            case expiresAt = "expires_at"
            case secondsLeft = "seconds_left"
            case endedAt = "ended_at"
            case endedBy = "ended_by"
            case endSummary = "end_summary"
            case endError = "end_error"
        }
    }

    static func render(_ grants: [Grant], now: Date) -> String {
        let rows = grants.map { grant in
            Row(
                id: grant.id.rawValue, bottle: grant.bottle.rawValue, file: grant.file.fileName,
                tool: grant.file.tool.rawValue, state: grant.ended?.reason.rawValue ?? "live",
                grantedBy: grant.grantedBy, grantedAt: Timestamp.format(grant.grantedAt),
                expiresAt: Timestamp.format(grant.expiresAt),
                secondsLeft: grant.isLive ? max(0, Int64(grant.expiresAt.timeIntervalSince(now).rounded(.up))) : 0,
                holdings: grant.holdings, endedAt: grant.ended.map { Timestamp.format($0.at) },
                endedBy: grant.ended?.by, endSummary: grant.ended?.summary, endError: grant.endError)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(["grants": rows])) ?? Data("{\"grants\":[]}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
