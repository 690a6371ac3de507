import Foundation
import Testing

/// docs/configuration.md and every command's `--help` say the same thing:
/// each flag and environment variable in one is in the other, so they can't
/// drift apart again (a flag documented but rejected, or in `--help` and in
/// no doc).
@Suite("Docs: configuration.md matches --help")
struct ConfigurationDocTests {
    /// docs/configuration.md, parsed into its tables.
    static let document: ConfigurationDocument = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md").path
        return ConfigurationDocument(text: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }()

    static func help(_ arguments: [String]) throws -> String {
        let run = try ApplyFixtures.run([BuiltBinary.path] + arguments, timeout: .seconds(30))
        #expect(run.status == 0, "\(arguments): \(run.err)")
        return run.out
    }

    /// The subcommands `bottle-supervise --help` lists.
    static func subcommands() throws -> Set<String> {
        let text = try help(["--help"])
        guard let section = text.components(separatedBy: "SUBCOMMANDS:").last else { return [] }
        var names: Set<String> = []
        for line in section.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            if let name = line.split(separator: " ").first, name.allSatisfy({ $0.isLowercase || $0 == "-" }) {
                names.insert(String(name))
            }
        }
        return names
    }

    /// The long flags of a command's `--help` (its OPTIONS lines), without `--help` and `--version`.
    static func flags(inHelp text: String) -> Set<String> {
        var flags: Set<String> = []
        for line in text.split(separator: "\n") {
            // An option line starts two spaces in; wrapped help text is indented further.
            guard line.hasPrefix("  -"), let match = line.firstMatch(of: /^  (?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)/)
            else { continue }
            flags.insert(String(match.1))
        }
        return flags.subtracting(["--help", "--version"])
    }

    /// The long flags of `command`, and of its own subcommands when it has some (`policy check`,
    /// `policy explain`: the index documents them under `policy`).
    static func flags(ofCommand command: String) throws -> Set<String> {
        let text = try help([command, "--help"])
        var flags = Self.flags(inHelp: text)
        guard let section = text.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return flags }
        for line in section.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            guard let name = line.split(separator: " ").first, name.allSatisfy({ $0.isLowercase || $0 == "-" }) else {
                continue
            }
            flags.formUnion(Self.flags(inHelp: try help([command, String(name), "--help"])))
        }
        return flags
    }

    /// The `$NAME` environment variables a text mentions.
    static func variables(in text: String) -> Set<String> {
        Set(text.matches(of: /\$([A-Z][A-Z0-9_]+)/).map { String($0.1) })
    }

    @Test("the index lists exactly the subcommands of --help")
    func commands() throws {
        #expect(!Self.document.index.isEmpty, "docs/configuration.md has no 'Which command takes which flag' table")
        #expect(try Self.subcommands() == Set(Self.document.index.keys))
    }

    /// Every subcommand `--help` lists, so a command added later is checked without touching this test.
    @Test("each command's --help flags are the documented ones, both ways")
    func flags() throws {
        let commands = try Self.subcommands().subtracting(["help"])
        #expect(commands.count >= 15, "\(commands.sorted())")
        for command in commands.sorted() {
            let inHelp = try Self.flags(ofCommand: command)
            let documented = Self.document.index[command] ?? []
            #expect(
                inHelp.subtracting(documented).isEmpty,
                "in `\(command) --help` but not in docs/configuration.md: \(inHelp.subtracting(documented).sorted())")
            #expect(
                documented.subtracting(inHelp).isEmpty,
                "in docs/configuration.md but not in `\(command) --help`: \(documented.subtracting(inHelp).sorted())")
        }
    }

    @Test("every flag in the index is described in a table, and every described flag is in the index")
    func descriptions() {
        let indexed = Self.document.index.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        let described = Set(Self.document.rows.flatMap(\.flags))
        #expect(indexed.subtracting(described).isEmpty, "no description: \(indexed.subtracting(described).sorted())")
        #expect(described.subtracting(indexed).isEmpty, "not in the index: \(described.subtracting(indexed).sorted())")
    }

    @Test("each documented variable is named in the --help of the commands whose flag it backs, and no other is")
    func variables() throws {
        var helpVariables: Set<String> = []
        var helps: [String: String] = [:]
        for command in Self.document.index.keys {
            let text = try Self.help([command, "--help"])
            helps[command] = text
            helpVariables.formUnion(Self.variables(in: text))
        }
        for row in Self.document.rows {
            for variable in row.variables {
                let commands =
                    row.commands
                    ?? Set(Self.document.index.filter { !$0.value.isDisjoint(with: row.flags) }.keys)
                for command in commands {
                    #expect(
                        helps[command]?.contains("$\(variable)") == true,
                        "`\(command) --help` does not name $\(variable), which docs/configuration.md gives for \(row.flags.sorted())"
                    )
                }
            }
        }
        let documented = Self.variables(in: Self.document.text).union(Self.document.rows.flatMap(\.variables))
        #expect(
            helpVariables.subtracting(documented).isEmpty,
            "named in --help but not in docs/configuration.md: \(helpVariables.subtracting(documented).sorted())")
    }
}

/// The tables of docs/configuration.md.
struct ConfigurationDocument {
    /// One described flag: its flags, variables, and the commands its section names (`nil`: the index decides).
    struct Row {
        var flags: [String]
        var variables: [String]
        var commands: Set<String>?
    }

    let text: String
    /// "Which command takes which flag": command → flags.
    var index: [String: Set<String>] = [:]
    /// Rows of every table whose header starts with `flag` or `command | flag`.
    var rows: [Row] = []

    init(text: String) {
        self.text = text
        var heading = ""
        var header: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("#") {
                heading = line
                header = []
                continue
            }
            guard line.hasPrefix("|") else {
                header = []
                continue
            }
            let cells = Self.cells(line)
            if header.isEmpty {
                header = cells
                continue
            }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } }) { continue }
            let codes = cells.map(Self.codeSpans)
            if header == ["command", "flags"], let command = codes.first?.first {
                index[command] = Set(codes[1].filter { $0.hasPrefix("--") })
            } else if header.first == "flag" {
                // A section named after one command (`bottle-supervise serve`) describes its flags only.
                let named = heading.firstMatch(of: /`bottle-supervise ([a-z]+)`/).map { Set([String($0.1)]) }
                let variableColumn = header.firstIndex(of: "variable")
                rows.append(
                    Row(
                        flags: codes[0].filter { $0.hasPrefix("--") },
                        variables: variableColumn.map { codes[$0].filter { !$0.hasPrefix("-") } } ?? [],
                        commands: named))
            } else if header.first == "command", header.dropFirst().first == "flag" {
                rows.append(
                    Row(flags: codes[1].filter { $0.hasPrefix("--") }, variables: [], commands: Set(codes[0])))
            }
        }
    }

    /// The cells of a Markdown table row (`\|` inside a cell is not a separator).
    static func cells(_ line: String) -> [String] {
        line.replacingOccurrences(of: "\\|", with: "\u{0}").split(separator: "|", omittingEmptySubsequences: false)
            .dropFirst().dropLast().map {
                $0.replacingOccurrences(of: "\u{0}", with: "|").trimmingCharacters(in: .whitespaces)
            }
    }

    /// The text of each `code span` in a cell.
    static func codeSpans(_ cell: String) -> [String] {
        cell.matches(of: /`([^`]+)`/).map { String($0.1) }
    }
}
