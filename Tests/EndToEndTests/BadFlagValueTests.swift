import Foundation
import Testing

/// Every subcommand, every option, one bad value each: the command exits 2 (a usage error) — or 1
/// where the flag names a file or directory that must exist, as a missing queue root does — and
/// its message names the flag. The twin of ``ConfigurationDocTests``: the commands and their
/// options come from the command tree itself (`--experimental-dump-help`), so a command or flag
/// added later is covered without touching this test.
///
/// What a new command must do to pass: check each option's value before acting (a value type that
/// parses itself, `validate()`, or a check at the start of `run()` that names the flag); and, if it
/// has a required positional argument or option, have a valid stand-in for its value name in
/// ``goodValues`` (the test says which one is missing). Options whose every value is valid (free
/// text) are listed in ``freeText``.
@Suite("Every flag: a bad value exits 2 (1 for a missing path) and names the flag", .serialized)
struct BadFlagValueTests {
    /// The bad value given to every option: not a number, an address, a slug, a URL, a proposal id, a
    /// digest, an engine or a host name, and a path whose directory does not exist.
    static let badValue = "/nonexistent-\(UUID().uuidString.prefix(8))/bad value"

    /// Options that take any text: nothing to refuse.
    static let freeText: Set<String> = ["--notes", "--justification", "--filter"]

    /// Options naming a file or directory that must exist: a missing one is a failure (1), as a
    /// missing queue root is (README, OperatorTruthTests).
    static let existingPaths: Set<String> = [
        "--queue-root", "--config-root", "--settings", "--tls-cert", "--tls-key", "--current-config", "--queue-dir",
    ]

    /// Valid stand-ins for required positional arguments and options, by value name.
    static let goodValues: [String: String] = [
        "name": "alice",
        "id": "20200101-000000-000000000000",
        "slug": "web",
        "file": "allowlist",
        "notes": "a note",
        "grant": "20200101-000000-000000000000",
        "duration": "1h",
    ]

    /// Options that need a valid partner to get as far as their own check (`--tls-cert` needs `--tls-key`);
    /// `{pem}` is a file with PEM markers.
    static let partners: [String: [String]] = [
        "--tls-cert": ["--tls-key", "{pem}"],
        "--tls-key": ["--tls-cert", "{pem}"],
    ]

    /// What a command needs besides its required arguments to get past its own checks (modify: one of
    /// --file or --edit), left out when the flag under test is in ``conflicts``.
    static let commandExtras: [String: [String]] = ["modify": ["--edit"], "reject": ["--notes", "a note"]]
    static let conflicts: [String: Set<String>] = ["--file": ["--edit"]]

    struct Option: CustomStringConvertible {
        var command: String
        var flag: String
        var description: String { "\(command) \(flag)" }
    }

    struct CommandTree {
        /// Per subcommand: its options (long names) and its required positionals and options with value names.
        var options: [String: [String]] = [:]
        var required: [String: [(flag: String?, valueName: String)]] = [:]
    }

    static func tree() throws -> CommandTree {
        let dump = try ApplyFixtures.run([BuiltBinary.path, "--experimental-dump-help"], timeout: .seconds(30))
        guard dump.status == 0,
            let root = try JSONSerialization.jsonObject(with: Data(dump.out.utf8)) as? [String: Any],
            let command = root["command"] as? [String: Any],
            let subcommands = command["subcommands"] as? [[String: Any]]
        else { throw E2EFailure("--experimental-dump-help: \(dump.status) \(dump.err)") }
        var tree = CommandTree()
        // A command with subcommands of its own (`policy check`, `policy explain`) is checked through them.
        var queue: [(prefix: String, command: [String: Any])] = subcommands.map { ("", $0) }
        while !queue.isEmpty {
            let (prefix, subcommand) = queue.removeFirst()
            guard let leaf = subcommand["commandName"] as? String, leaf != "help" else { continue }
            let name = prefix + leaf
            if let nested = subcommand["subcommands"] as? [[String: Any]], !nested.isEmpty {
                queue += nested.map { (name + " ", $0) }
                continue
            }
            var options: [String] = []
            var required: [(flag: String?, valueName: String)] = []
            for argument in subcommand["arguments"] as? [[String: Any]] ?? [] {
                let kind = argument["kind"] as? String
                let preferred = argument["preferredName"] as? [String: Any]
                let flag = (preferred?["kind"] as? String) == "long" ? (preferred?["name"] as? String).map { "--" + $0 } : nil
                let valueName = argument["valueName"] as? String ?? ""
                let optional = argument["isOptional"] as? Bool ?? true
                if kind == "option", let flag {
                    options.append(flag)
                    if !optional { required.append((flag, valueName)) }
                } else if kind == "positional", !optional {
                    required.append((nil, valueName))
                }
            }
            tree.options[name] = options
            tree.required[name] = required
        }
        return tree
    }

    @Test("each option of each subcommand, given a bad value")
    func everyFlag() throws {
        let tree = try Self.tree()
        #expect(tree.options.count >= 14, "the command tree lists the subcommands: \(tree.options.keys.sorted())")
        let scratch = Scratch()
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        try FileManager.default.createDirectory(atPath: scratch.path + "/queue/web", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/home", withIntermediateDirectories: true)
        let pem = scratch.write(
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            at: "both.pem")
        // Everything else valid, from the environment, so the flag under test is the one bad thing.
        let environment = [
            "HOME": scratch.path + "/home", "NO_COLOR": "1",
            "SUPERVISE_QUEUE_ROOT": scratch.path + "/queue", "SUPERVISE_CONFIG_ROOT": scratch.path + "/bottles",
            "SUPERVISE_BOTTLE_SLUG": "web", "SUPERVISE_QUEUE_DIR": scratch.path + "/queue/web",
            "SUPERVISE_CURRENT_CONFIG": scratch.path + "/bottles/web", "SUPERVISE_PORT": "0",
            "SUPERVISE_SETTINGS": "", "SUPERVISE_URL": "",
        ]
        var checked = 0
        for (command, options) in tree.options.sorted(by: { $0.key < $1.key }) {
            var base = command.split(separator: " ").map(String.init)
            for (flag, valueName) in tree.required[command] ?? [] {
                guard let good = Self.goodValues[valueName] else {
                    Issue.record(
                        "\(command): no stand-in for its required \(flag ?? "argument") <\(valueName)>; add one to BadFlagValueTests.goodValues")
                    continue
                }
                base += (flag.map { [$0] } ?? []) + [good]
            }
            base += Self.commandExtras[command] ?? []
            for flag in options where !["--help", "--version"].contains(flag) && !Self.freeText.contains(flag) {
                let option = Option(command: command, flag: flag)
                let conflicting = Self.conflicts[flag] ?? []
                let partner = (Self.partners[flag] ?? []).map { $0 == "{pem}" ? pem : $0 }
                let arguments = base.filter { $0 != flag && !conflicting.contains($0) } + partner + [flag, Self.badValue]
                let run = try ApplyFixtures.run([BuiltBinary.path] + arguments, environment: environment, timeout: .seconds(20))
                let allowed: Set<Int32> = Self.existingPaths.contains(flag) ? [1, 2] : [2]
                #expect(allowed.contains(run.status), "\(option): exit \(run.status)\n\(run.out)\(run.err)")
                #expect(run.err.contains(flag), "\(option): the message does not name \(flag):\n\(run.err)")
                #expect(run.err.contains("bad value") || run.err.contains("/nonexistent-"), "\(option): the message does not quote the value:\n\(run.err)")
                checked += 1
            }
        }
        #expect(checked >= 40, "\(checked) options checked")
    }
}
