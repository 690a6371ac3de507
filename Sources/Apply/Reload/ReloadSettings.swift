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
/// commands = [["podman", "build", "-t", "localhost/{slug}:supervise", "-f", "{file}", "/srv/bottles/{slug}"],
///             ["systemctl", "restart", "bottle@{slug}"]]
/// ```
/// The file is parsed with TOMLKit and checked strictly: an unknown table or
/// key is an error, so a typo never silently falls back to a default.
public struct ReloadSettings: Sendable, Equatable {
    /// The action per file; a file not listed uses ``defaultAction(for:bottle:directory:engine:)``.
    public var actions: [ConfigFile: ReloadAction]

    /// Settings with the given actions.
    public init(actions: [ConfigFile: ReloadAction] = [:]) {
        self.actions = actions
    }

    /// The action for `file`: the configured one, else the default.
    public func action(
        for file: ConfigFile, bottle: BottleSlug, directory: FilePath, engine: ContainerEngine
    ) -> ReloadAction {
        actions[file] ?? ReloadSettings.defaultAction(for: file, bottle: bottle, directory: directory, engine: engine)
    }

    /// What happens without a `supervise.toml` entry: SIGHUP the bottle's
    /// cred-proxy, restart its pipelock, or build the new image and restart
    /// the bottle's container.
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
            return ReloadAction(
                commands: [
                    [program, "build", "-t", "localhost/{slug}:supervise", "-f", "{file}", directory.string],
                    [program, "restart", "{slug}"],
                ],
                timeout: .seconds(600))
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
        for key in table.keys where key != "reload" {
            throw .settings(
                path: path,
                reason:
                    "unknown table [\(key)]; only [reload.routes], [reload.allowlist] and [reload.dockerfile] are read")
        }
        guard let reloadValue = table["reload"] else { return ReloadSettings() }
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
            if let action = try parseAction(section, name: "reload.\(key)", path: path) {
                actions[file] = action
            }
        }
        return ReloadSettings(actions: actions)
    }

    private static let sectionFiles: [String: ConfigFile] = [
        "routes": .routes, "allowlist": .allowlist, "dockerfile": .dockerfile,
    ]

    private static func parseAction(_ section: TOMLTable, name: String, path: String) throws(ApplyError)
        -> ReloadAction?
    {
        for key in section.keys where !["command", "commands", "timeout"].contains(key) {
            throw .settings(path: path, reason: "unknown key \(name).\(key); expected command, commands or timeout")
        }
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
        guard !commands.isEmpty else {
            if section.keys.isEmpty { return nil }  // an empty table: keep the default
            throw .settings(path: path, reason: "\(name) has a timeout but no command")
        }
        return ReloadAction(commands: commands, timeout: timeout)
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
