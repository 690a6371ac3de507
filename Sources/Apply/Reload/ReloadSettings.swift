import FileAccess
import Foundation
import Queue
import SystemPackage
import TOMLKit

/// A bottle's reload actions: `<config-root>/<slug>/supervise.toml`, or the
/// defaults for a file it does not mention.
///
/// ```toml
/// [reload.routes]
/// command = ["podman", "kill", "--signal", "HUP", "{slug}-cred-proxy"]
/// timeout = 30
/// [reload.allowlist]
/// command = ["podman", "restart", "{slug}-pipelock"]
/// [reload.dockerfile]
/// replace = "{slug}"                      # the built-in replacement (the default), with
/// build_network = "bottle"                # "none", "bottle" (its egress, the default) or "host"
/// allow_new_privileges = false            # true: keep running without no-new-privileges if it did; or:
/// # commands = [["podman", "build", "-t", "localhost/{slug}:supervise", "-f", "{file}", "/srv/bottles/{slug}"],
/// #             ["systemctl", "restart", "bottle@{slug}"]]
/// ```
/// The file is parsed with TOMLKit and checked strictly: an unknown table or
/// key is an error, so a typo never silently falls back to a default.
public struct ReloadSettings: Sendable, Equatable {
    /// The action per file; a file not listed uses ``defaultAction(for:bottle:directory:engine:)``.
    public var actions: [ConfigFile: ReloadAction]
    /// The default and maximum grant per file (`[grants.allowlist]`, `[grants.routes]`).
    public var grants: [ConfigFile: GrantLimits]

    /// Settings with the given actions and grant limits.
    public init(actions: [ConfigFile: ReloadAction] = [:], grants: [ConfigFile: GrantLimits] = [:]) {
        self.actions = actions
        self.grants = grants
    }

    /// The action for `file`: the configured one, else the default.
    public func action(
        for file: ConfigFile, bottle: BottleSlug, directory: FilePath, engine: ContainerEngine
    ) -> ReloadAction {
        guard var action = actions[file] else {
            return ReloadSettings.defaultAction(for: file, bottle: bottle, directory: directory, engine: engine)
        }
        if action.replacement?.context.isEmpty == true { action.replacement?.context = directory.string }
        return action
    }

    /// What happens without a `supervise.toml` entry: SIGHUP the bottle's
    /// cred-proxy, restart its pipelock, or build the new image and replace
    /// the bottle's container with one from it (``ContainerReplacement``).
    public static func defaultAction(
        for file: ConfigFile, bottle: BottleSlug, directory: FilePath, engine: ContainerEngine
    ) -> ReloadAction {
        let program = engine.program
        switch file {
        case .routes:
            return ReloadAction(commands: [[program, "kill", "--signal", "HUP", "{slug}-cred-proxy"]])
        case .allowlist:
            return ReloadAction(commands: [[program, "restart", "{slug}-pipelock"]])
        case .dockerfile:
            return ReloadAction(replacing: ReloadAction.Replacement(context: directory.string), timeout: .seconds(600))
        }
    }

    /// The bottle's settings: parsed from `path`, or empty (all defaults) when there is no such file.
    /// - Throws: ``ApplyError/settings(path:reason:)`` naming what is wrong.
    public static func load(from path: FilePath) throws(ApplyError) -> ReloadSettings {
        let data: Data?
        do { data = try AtomicFile.read(path, limit: 1 << 20) } catch {
            throw .settings(path: path.string, reason: error.description)
        }
        guard let data else { return ReloadSettings() }
        return try parse(String(decoding: data, as: UTF8.self), path: path.string)
    }

    /// Parses the text of a `supervise.toml`.
    public static func parse(_ text: String, path: String = "supervise.toml") throws(ApplyError) -> ReloadSettings {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw .settings(
                path: path,
                reason: "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw .settings(path: path, reason: "not valid TOML")
        }
        for key in table.keys where key != "reload" && key != "grants" {
            throw .settings(
                path: path,
                reason:
                    "unknown table [\(key)]; only [reload.routes], [reload.allowlist], [reload.dockerfile], "
                    + "[grants.routes] and [grants.allowlist] are read")
        }
        let grants = try parseGrants(table["grants"], path: path)
        guard let reloadValue = table["reload"] else { return ReloadSettings(grants: grants) }
        guard let reload = reloadValue.table else { throw .settings(path: path, reason: "reload must be a table") }
        var actions: [ConfigFile: ReloadAction] = [:]
        for key in reload.keys {
            guard let file = sectionFiles[key] else {
                throw .settings(
                    path: path, reason: "unknown table [reload.\(key)]; expected routes, allowlist or dockerfile")
            }
            guard let section = reload[key]?.table else {
                throw .settings(path: path, reason: "reload.\(key) must be a table")
            }
            if let action = try parseAction(section, name: "reload.\(key)", file: file, path: path) {
                actions[file] = action
            }
        }
        return ReloadSettings(actions: actions, grants: grants)
    }

    /// `[grants.routes]` and `[grants.allowlist]`: `default` and `maximum`, durations.
    private static func parseGrants(_ value: (any TOMLValueConvertible)?, path: String) throws(ApplyError)
        -> [ConfigFile: GrantLimits]
    {
        guard let value else { return [:] }
        guard let table = value.table else { throw .settings(path: path, reason: "grants must be a table") }
        var limits: [ConfigFile: GrantLimits] = [:]
        for key in table.keys {
            if key == "dockerfile" {
                throw .settings(
                    path: path,
                    reason: "[grants.dockerfile]: a Dockerfile approval cannot be time-boxed (undoing it is a rebuild)")
            }
            guard let file = sectionFiles[key] else {
                throw .settings(path: path, reason: "unknown table [grants.\(key)]; expected routes or allowlist")
            }
            guard let section = table[key]?.table else {
                throw .settings(path: path, reason: "grants.\(key) must be a table")
            }
            var parsed = GrantLimits()
            for name in section.keys {
                guard name == "default" || name == "maximum" else {
                    throw .settings(path: path, reason: "unknown key grants.\(key).\(name); expected default or maximum")
                }
                guard let text = section[name]?.string else {
                    throw .settings(path: path, reason: "grants.\(key).\(name) must be a string such as \"8h\"")
                }
                let duration: GrantDuration
                do { duration = try GrantDuration.parse(text) } catch {
                    throw .settings(path: path, reason: "grants.\(key).\(name): \(error)")
                }
                if name == "default" { parsed.defaultDuration = duration } else { parsed.maximum = duration }
            }
            if let defaultDuration = parsed.defaultDuration, let maximum = parsed.maximum, defaultDuration > maximum {
                throw .settings(
                    path: path,
                    reason: "grants.\(key).default (\(defaultDuration)) is longer than its maximum (\(maximum))")
            }
            limits[file] = parsed
        }
        return limits
    }

    private static let sectionFiles: [String: ConfigFile] = [
        "routes": .routes, "allowlist": .allowlist, "dockerfile": .dockerfile,
    ]

    private static let replacementKeys = ["replace", "image", "context", "build_network", "allow_new_privileges"]

    private static func parseAction(_ section: TOMLTable, name: String, file: ConfigFile, path: String)
        throws(ApplyError) -> ReloadAction?
    {
        let known = ["command", "commands", "timeout"] + (file == .dockerfile ? replacementKeys : [])
        for key in section.keys where !known.contains(key) {
            if replacementKeys.contains(key) {
                throw .settings(
                    path: path, reason: "\(name).\(key) is only for [reload.dockerfile], which replaces the container")
            }
            let expected =
                file == .dockerfile
                ? "replace, image, context, build_network, allow_new_privileges, command, commands or timeout"
                : "command, commands or timeout"
            throw .settings(path: path, reason: "unknown key \(name).\(key); expected \(expected)")
        }
        let replacement = try parseReplacement(section, name: name, path: path)
        var commands: [[String]] = []
        if let command = section["command"] {
            commands.append(try argv(command, name: "\(name).command", path: path))
        }
        if let list = section["commands"] {
            guard let array = list.array else {
                throw .settings(path: path, reason: "\(name).commands must be an array of arrays of strings")
            }
            for (index, element) in array.enumerated() {
                commands.append(try argv(element, name: "\(name).commands[\(index)]", path: path))
            }
        }
        var timeout = Duration.seconds(30)
        if let value = section["timeout"] {
            let seconds: Double
            if let int = value.int {
                seconds = Double(int)
            } else if let double = value.double {
                seconds = double
            } else {
                throw .settings(path: path, reason: "\(name).timeout must be a number of seconds")
            }
            guard seconds > 0, seconds <= 86_400 else {
                throw .settings(path: path, reason: "\(name).timeout must be between 0 and 86400 seconds")
            }
            timeout = .milliseconds(Int64(seconds * 1000))
        }
        if let replacement {
            guard commands.isEmpty else {
                throw .settings(
                    path: path,
                    reason: "\(name) has both replace and command(s); give one: the replacement or your commands")
            }
            return ReloadAction(replacing: replacement, timeout: section["timeout"] == nil ? .seconds(600) : timeout)
        }
        guard !commands.isEmpty else {
            if section.keys.isEmpty { return nil }  // an empty table: keep the default
            throw .settings(path: path, reason: "\(name) has a timeout but no command")
        }
        return ReloadAction(commands: commands, timeout: timeout)
    }

    /// `replace = true` (the container `{slug}`) or `replace = "NAME"`, with
    /// optional `image` and `context`; `nil` when the table has no `replace`.
    private static func parseReplacement(_ section: TOMLTable, name: String, path: String) throws(ApplyError)
        -> ReloadAction.Replacement?
    {
        func text(_ key: String) throws(ApplyError) -> String? {
            guard let value = section[key] else { return nil }
            guard let string = value.string, !string.isEmpty, !string.utf8.contains(0) else {
                throw .settings(path: path, reason: "\(name).\(key) must be a non-empty string")
            }
            return string
        }
        guard let replace = section["replace"] else {
            for key in ["image", "context", "build_network", "allow_new_privileges"] where section[key] != nil {
                throw .settings(path: path, reason: "\(name).\(key) needs replace = true (or the container's name)")
            }
            return nil
        }
        let container: String
        if let flag = replace.bool {
            guard flag else {
                throw .settings(
                    path: path,
                    reason: "\(name).replace = false: to run other commands, give them in \(name).commands instead")
            }
            container = "{slug}"
        } else {
            guard let named = try text("replace") else { return nil }
            container = named
        }
        var network = ReloadAction.BuildNetwork.bottle
        if let value = try text("build_network") {
            guard let chosen = ReloadAction.BuildNetwork(rawValue: value) else {
                throw .settings(
                    path: path, reason: "\(name).build_network = \(Escaped(value)); expected \"none\", \"bottle\" or \"host\"")
            }
            network = chosen
        }
        var allowNewPrivileges = false
        if let value = section["allow_new_privileges"] {
            guard let flag = value.bool else {
                throw .settings(path: path, reason: "\(name).allow_new_privileges must be true or false")
            }
            allowNewPrivileges = flag
        }
        // The default context (the bottle's config directory) is filled in by the caller's default action.
        return ReloadAction.Replacement(
            container: container, image: try text("image") ?? "localhost/{slug}:supervise",
            context: try text("context") ?? "", buildNetwork: network, allowNewPrivileges: allowNewPrivileges)
    }

    private static func argv(_ value: any TOMLValueConvertible, name: String, path: String) throws(ApplyError)
        -> [String]
    {
        guard let array = value.array else {
            throw .settings(
                path: path, reason: "\(name) must be an array of strings, e.g. [\"podman\", \"restart\", \"{slug}\"]")
        }
        var out: [String] = []
        for element in array {
            guard let string = element.string else {
                throw .settings(path: path, reason: "\(name) must hold only strings")
            }
            guard !string.utf8.contains(0) else {
                throw .settings(path: path, reason: "\(name) holds a NUL byte")
            }
            out.append(string)
        }
        guard let program = out.first, !program.isEmpty else {
            throw .settings(path: path, reason: "\(name) is empty; its first element is the program to run")
        }
        return out
    }
}
