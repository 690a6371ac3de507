import Foundation
import Queue

/// Ending a grant: the file as it is now, less what the grant put in — a
/// three-way revert. Pure: text in, text out.
///
/// - The grant's base is not restored. Only the lines the grant holds are
///   taken out, and only if they are still there as the grant left them; a
///   later change to the same lines (a route edited since, a host removed) is
///   respected, and everything else in the file is kept byte for byte (an
///   allowlist) or member for member (routes.json, re-serialized only when a
///   route goes).
/// - A line another live grant also holds, or that a later permanent approval
///   asked for (those are released from the grant's holdings when approved),
///   stays: `keeping` names them.
/// - A changed route is put back as it was before the grant, unless that
///   route is already in the file again, in which case the grant's version
///   simply goes.
public enum GrantRevert {
    /// The outcome of a revert.
    public struct Result: Sendable, Equatable {
        /// The file's new text (the same as the input when nothing is removed).
        public var text: String
        /// What was taken out, one line per item, for the record.
        public var removed: [String]
        /// Held items no longer in the file as the grant left them (changed or removed since).
        public var alreadyGone: [String]
        /// Held items kept because another live grant holds them too.
        public var keptForOthers: [String]

        /// Whether the file changes.
        public var changesFile: Bool { !removed.isEmpty }
    }

    /// What ending a grant holding `holdings` does to `current`, keeping what `keeping` holds.
    public static func revert(
        _ current: String, of file: ConfigFile, removing holdings: GrantHoldings, keeping: GrantHoldings
    ) -> Result {
        switch file {
        case .allowlist: revertAllowlist(current, removing: holdings, keeping: keeping)
        case .routes: revertRoutes(current, removing: holdings, keeping: keeping)
        case .dockerfile: Result(text: current, removed: [], alreadyGone: [], keptForOthers: [])
        }
    }

    private static func revertAllowlist(_ current: String, removing holdings: GrantHoldings, keeping: GrantHoldings)
        -> Result
    {
        let shared = Set(keeping.hosts)
        let present = Set(hosts(in: current))
        let remove = Set(holdings.hosts.filter { present.contains($0) && !shared.contains($0) })
        let result = Result(
            text: current, removed: holdings.hosts.filter { remove.contains($0) }.map { "host \($0)" },
            alreadyGone: holdings.hosts.filter { !present.contains($0) }.map { "host \($0)" },
            keptForOthers: holdings.hosts.filter { present.contains($0) && shared.contains($0) }.map { "host \($0)" })
        guard !remove.isEmpty else { return result }
        // Line by line, keeping every other line (comments, blank lines, line endings) exactly.
        var out: [UInt8] = []
        for line in lines(of: current) {
            if let host = host(of: line), remove.contains(host) { continue }
            out += line
        }
        var reverted = result
        reverted.text = String(decoding: out, as: UTF8.self)
        return reverted
    }

    private static func revertRoutes(_ current: String, removing holdings: GrantHoldings, keeping: GrantHoldings)
        -> Result
    {
        guard let document = try? RoutesDocument.parse(current), case .object(let members) = document.root else {
            return Result(
                text: current, removed: [], alreadyGone: holdings.summary, keptForOthers: [])
        }
        // Matched by JSON equality (``JSONValue``), as the change was found: the
        // text of a route whose keys were reordered since differs, the route does not.
        let shared = keeping.routeValuesPut
        let added = Set(holdings.routesAdded.compactMap(Self.route(_:)))
        var changedTo: [JSONValue: String] = [:]
        for change in holdings.routesChanged {
            if let after = Self.route(change.after), changedTo[after] == nil { changedTo[after] = change.before }
        }
        let present = Set(document.routes)
        var routes: [JSONValue] = []
        var removed: [String] = [], kept: [String] = []
        for route in document.routes {
            let text = route.description
            if added.contains(route) || changedTo[route] != nil {
                if shared.contains(route) {
                    kept.append("route \(text)")
                    routes.append(route)
                    continue
                }
                if let before = changedTo[route] {
                    if let restored = Self.route(before), !present.contains(restored) {
                        routes.append(restored)
                    }
                    removed.append("route \(text) → \(before)")
                } else {
                    removed.append("route \(text)")
                }
                continue
            }
            routes.append(route)
        }
        let gone = holdings.routesPut.filter { text in Self.route(text).map { !present.contains($0) } ?? true }
            .sorted().map { "route \($0)" }
        guard !removed.isEmpty else {
            return Result(text: current, removed: [], alreadyGone: gone, keptForOthers: kept)
        }
        return Result(
            text: serialize(members: members, routes: routes), removed: removed, alreadyGone: gone,
            keptForOthers: kept)
    }

    /// routes.json with its top-level members in order, one route per line.
    static func serialize(members: [JSONMember], routes: [JSONValue]) -> String {
        var out = "{\n"
        for (index, member) in members.enumerated() {
            out += "  " + JSONValue.string(member.key).description + ": "
            if member.key.unicodeScalars.elementsEqual("routes".unicodeScalars) {
                if routes.isEmpty {
                    out += "[]"
                } else {
                    out += "[\n" + routes.map { "    " + $0.description }.joined(separator: ",\n") + "\n  ]"
                }
            } else {
                out += member.value.description
            }
            out += index == members.count - 1 ? "\n" : ",\n"
        }
        return out + "}\n"
    }

    // MARK: - Reading the lines

    /// The allowlist's hosts, normalized (lower case), in file order.
    static func hosts(in text: String) -> [String] {
        lines(of: text).compactMap(host(of:))
    }

    /// The lines of `text` as bytes, each with its line ending (`\n`; a
    /// `\r` before it stays part of the line). Bytes, not `Character`s:
    /// Swift reads `\r\n` as one character, which no `\n` split would find.
    static func lines(of text: String) -> [ArraySlice<UInt8>] {
        let bytes = Array(text.utf8)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            lines.append(bytes[start...index])
            start = index + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }

    /// The normalized host a line names, or `nil` for a comment or a blank line.
    static func host(of line: ArraySlice<UInt8>) -> String? {
        let entry = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !entry.isEmpty, !entry.hasPrefix("#") else { return nil }
        return AllowlistHost(name: entry, line: 0).normalizedName
    }

    /// One route held as compact JSON text, read back as a value (`nil`: it does not parse).
    static func route(_ text: String) -> JSONValue? {
        routes(in: "{\"routes\":[" + text + "]}")?.first
    }

    /// The routes of a routes.json, or `nil` when it does not parse.
    static func routes(in text: String) -> [JSONValue]? {
        guard !text.isEmpty else { return [] }
        return try? RoutesDocument.parse(text).routes
    }

    /// What pairs a route before a change with the route after: its name or
    /// id, else the path it matches. `nil`: the route has neither, and a
    /// change to it reads as one route removed and another added.
    static func routeKey(_ route: JSONValue) -> String? {
        for key in ["name", "id", "path", "prefix", "path_prefix", "pathprefix", "match"] {
            if let value = route[key] { return key + "=" + value.description }
        }
        return nil
    }
}
