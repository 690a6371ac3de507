import Foundation
import SystemPackage
import TOMLKit

/// The `[notify]` table of the host settings file (`~/.claude-bottle/host.toml`,
/// `--settings`, `$SUPERVISE_SETTINGS`): where the operator is told about
/// new proposals. docs/notifications.md describes every key.
///
/// Parsed strictly, like the reload settings: an unknown key is an error
/// that names it, so a typo never silently turns a channel off. Secrets are
/// never read from this file: keys ending in `_file` name a 0600 file, keys
/// ending in `_env` name an environment variable (``SecretSource``).
public struct NotifySettings: Sendable, Equatable {
    /// The channels to send to; empty: notifications are off.
    public var channels: [NotificationChannel] = []
    /// The web console's base URL, for a link to each proposal (`nil`: no link).
    public var consoleURL: String?
    /// Proposals the host first saw longer ago than this are not announced
    /// (a watcher started on an old queue does not flood anyone). Aged by
    /// ``HostFirstSeen``, never by the proposal's own `created_at`.
    public var maxAge: Duration = .seconds(3600)
    /// A bottle's proposals within this long of its last message are
    /// gathered into one ("12 new proposals from web-1"): ``AnnouncementSchedule``.
    public var coalesceWindow: Duration = .seconds(30)
    /// The most messages per minute across all bottles.
    public var maxPerMinute = 12
    /// A proposal still pending this long after the host first saw it is
    /// announced once more; zero: no reminders.
    public var remindAfter: Duration = .seconds(1800)
    /// Tries per channel and proposal, the first included.
    public var attempts = 8
    /// The wait before the first retry; it doubles each time, up to a minute.
    public var retryDelay: Duration = .seconds(1)
    /// How long one request may take.
    public var timeout: Duration = .seconds(10)

    public init() {}

    /// Whether anything is to be sent.
    public var isEnabled: Bool { !channels.isEmpty }

    /// The default settings file: `$SUPERVISE_SETTINGS`, then `~/.claude-bottle/host.toml`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> FilePath {
        if let path = environment["SUPERVISE_SETTINGS"], !path.isEmpty { return FilePath(path) }
        return FilePath(FileManager.default.homeDirectoryForCurrentUser.path).appending(".claude-bottle/host.toml")
    }

    /// Loads `[notify]` from `path`; a missing file means no notifications.
    public static func load(
        from path: FilePath, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(NotifySettingsError) -> NotifySettings {
        guard let data = FileManager.default.contents(atPath: path.string) else {
            if FileManager.default.fileExists(atPath: path.string) { throw .invalid("cannot read \(path)") }
            return NotifySettings()
        }
        do {
            return try parse(String(decoding: data, as: UTF8.self), environment: environment)
        } catch {
            throw .invalid("\(path): \(error.message)")
        }
    }

    /// Parses a settings file's text; tables other than `[notify]` are left to their readers.
    public static func parse(_ text: String, environment: [String: String]) throws(NotifySettingsError) -> NotifySettings {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw .invalid("line \(error.source.begin.line): \(error.description)")
        } catch {
            throw .invalid("not valid TOML")
        }
        var settings = NotifySettings()
        guard let value = root["notify"] else { return settings }
        guard let notify = value.table else { throw .invalid("notify must be a table: [notify]") }
        let known: Set<String> = [
            "console_url", "desktop", "max_age", "attempts", "retry_delay", "timeout", "webhook", "ntfy", "slack",
            "coalesce_window", "max_per_minute", "remind_after",
        ]
        for key in notify.keys where !known.contains(key) {
            throw .invalid("unknown key notify.\(key); expected one of \(known.sorted().joined(separator: ", "))")
        }
        if let url = notify["console_url"] {
            guard let text = url.string, text.hasPrefix("http://") || text.hasPrefix("https://") else {
                throw .invalid("notify.console_url must be an http:// or https:// URL")
            }
            settings.consoleURL = text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        if let desktop = notify["desktop"] {
            guard let on = desktop.bool else { throw .invalid("notify.desktop must be true or false") }
            if on { settings.channels.append(.desktop) }
        }
        settings.maxAge = try seconds(notify["max_age"], "notify.max_age", range: 0...(86400 * 365)) ?? settings.maxAge
        settings.retryDelay = try seconds(notify["retry_delay"], "notify.retry_delay", range: 0...3600) ?? settings.retryDelay
        settings.timeout = try seconds(notify["timeout"], "notify.timeout", range: 0.1...300) ?? settings.timeout
        settings.coalesceWindow =
            try seconds(notify["coalesce_window"], "notify.coalesce_window", range: 0...3600) ?? settings.coalesceWindow
        settings.remindAfter =
            try seconds(notify["remind_after"], "notify.remind_after", range: 0...(86400 * 30)) ?? settings.remindAfter
        if let perMinute = notify["max_per_minute"] {
            guard let count = perMinute.int, (1...600).contains(count) else {
                throw .invalid("notify.max_per_minute must be a whole number from 1 to 600")
            }
            settings.maxPerMinute = count
        }
        if let attempts = notify["attempts"] {
            guard let count = attempts.int, (1...100).contains(count) else {
                throw .invalid("notify.attempts must be a whole number from 1 to 100")
            }
            settings.attempts = count
        }
        for table in try tables(notify["webhook"], "notify.webhook") {
            try check(table, "notify.webhook", allowed: ["url", "url_file", "url_env", "token_file", "token_env"])
            let url = try secretOrLiteral(table, "url", in: "notify.webhook", literalAllowed: true, environment: environment)
            let token = try optionalSecret(table, "token", in: "notify.webhook", environment: environment)
            settings.channels.append(.webhook(url: try httpURL(url, "notify.webhook"), token: token))
        }
        for table in try tables(notify["ntfy"], "notify.ntfy") {
            try check(table, "notify.ntfy", allowed: ["server", "topic_file", "topic_env", "token_file", "token_env"])
            if table["topic"] != nil {
                throw .invalid("notify.ntfy.topic: a topic is as good as a password on a public server; use topic_file (mode 0600) or topic_env")
            }
            let server = table["server"]?.string ?? "https://ntfy.sh"
            let topic = try secretOrLiteral(table, "topic", in: "notify.ntfy", literalAllowed: false, environment: environment)
            guard topic.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw .invalid("the ntfy topic may hold only letters, digits, - and _")
            }
            let token = try optionalSecret(table, "token", in: "notify.ntfy", environment: environment)
            settings.channels.append(.ntfy(server: try httpURL(server, "notify.ntfy.server"), topic: topic, token: token))
        }
        for table in try tables(notify["slack"], "notify.slack") {
            try check(table, "notify.slack", allowed: ["url_file", "url_env"])
            let url = try secretOrLiteral(table, "url", in: "notify.slack", literalAllowed: false, environment: environment)
            settings.channels.append(.slack(url: try httpURL(url, "notify.slack")))
        }
        return settings
    }

    // MARK: - Reading values

    private static func seconds(
        _ value: (any TOMLValueConvertible)?, _ name: String, range: ClosedRange<Double>
    ) throws(NotifySettingsError) -> Duration? {
        guard let value else { return nil }
        guard let number = value.double ?? value.int.map(Double.init), range.contains(number) else {
            throw .invalid("\(name) must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return .milliseconds(Int64((number * 1000).rounded()))
    }

    private static func tables(_ value: (any TOMLValueConvertible)?, _ name: String) throws(NotifySettingsError) -> [TOMLTable] {
        guard let value else { return [] }
        if let table = value.table { return [table] }
        if let array = value.array {
            var tables: [TOMLTable] = []
            for element in array {
                guard let table = element.table else { throw .invalid("\(name) must be a table or an array of tables") }
                tables.append(table)
            }
            return tables
        }
        throw .invalid("\(name) must be a table ([\(name)]) or an array of tables ([[\(name)]])")
    }

    private static func check(_ table: TOMLTable, _ name: String, allowed: Set<String>) throws(NotifySettingsError) {
        for key in table.keys where !allowed.contains(key) {
            if key == "url" || key == "token" {
                throw .invalid("\(name).\(key): secrets are not read from the settings file; use \(key)_file (a file of mode 0600) or \(key)_env (an environment variable)")
            }
            throw .invalid("unknown key \(name).\(key); expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// `key` given literally (when allowed), or as `key_file` / `key_env`: exactly one of them.
    private static func secretOrLiteral(
        _ table: TOMLTable, _ key: String, in name: String, literalAllowed: Bool, environment: [String: String]
    ) throws(NotifySettingsError) -> String {
        let given = [key, key + "_file", key + "_env"].filter { table[$0] != nil }
        guard given.count == 1 else {
            let choices = (literalAllowed ? [key] : []) + [key + "_file", key + "_env"]
            throw .invalid("\(name) needs exactly one of \(choices.joined(separator: ", "))")
        }
        if literalAllowed, let literal = table[key]?.string { return literal }
        guard let source = try optionalSecret(table, key, in: name, environment: environment) else {
            throw .invalid("\(name).\(given[0]) must be a string")
        }
        return source
    }

    private static func optionalSecret(
        _ table: TOMLTable, _ key: String, in name: String, environment: [String: String]
    ) throws(NotifySettingsError) -> String? {
        if let path = table[key + "_file"] {
            guard let text = path.string else { throw .invalid("\(name).\(key)_file must be a path") }
            let expanded = text.hasPrefix("~/") ? FileManager.default.homeDirectoryForCurrentUser.path + text.dropFirst(1) : text
            do { return try SecretSource.file(expanded).read(environment: environment) } catch { throw .invalid(error.message) }
        }
        if let variable = table[key + "_env"] {
            guard let text = variable.string else { throw .invalid("\(name).\(key)_env must be a variable name") }
            do { return try SecretSource.environment(text).read(environment: environment) } catch { throw .invalid(error.message) }
        }
        return nil
    }

    private static func httpURL(_ text: String, _ name: String) throws(NotifySettingsError) -> String {
        guard text.hasPrefix("https://") || text.hasPrefix("http://"), URL(string: text)?.host != nil else {
            throw .invalid("\(name) must be an http:// or https:// URL")
        }
        return text
    }
}

/// A host settings file that cannot be used, with what to fix.
public enum NotifySettingsError: Error, Sendable, CustomStringConvertible {
    case invalid(String)

    var message: String {
        switch self {
        case .invalid(let text): text
        }
    }

    public var description: String { "notification settings: \(message)" }
}
