import Queue

/// What the Dockerfile has set up by a given instruction, as far as the
/// risk rules need it to read the next one: the working directory (a
/// relative `COPY` destination lands under it), the `ARG` and `ENV` values
/// (`USER $U`, `echo … >> $F`), the stage names (`COPY --from=build` is a
/// stage, `--from=alpine` an image), and the user names the file's own
/// edits made uid 0 (`USER toor` after `useradd -o -u 0 toor`).
struct DockerfileBuildState {
    var workdir = "/"
    var variables: [String: String] = [:]
    var stageNames: Set<String> = []
    var stageCount = 0
    var rootNames: Set<String> = ["root"]
    /// The stage's `SHELL` (`nil`: BuildKit's default, `/bin/sh -c`).
    var shell: [String]?

    /// The shells whose language the hints read `RUN` text in.
    static let posixShells: Set<String> = ["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "yash", "posh", "busybox", "rbash"]

    /// The interpreter ``shell`` names when it is not a POSIX shell (`python3`, `pwsh`); `nil` for a shell the hints read.
    var unreadShell: String? {
        guard let program = shell?.first else { return nil }
        let name = ShellScript.basename(program)
        return Self.posixShells.contains(name) ? nil : name
    }

    /// Updates the state with `instruction` (called for every instruction, in order).
    mutating func apply(_ instruction: DockerfileInstruction) {
        var levels: ShellScript.Levels = [:]
        apply(instruction, levels: &levels)
    }

    /// ``apply(_:)`` with the shell texts already read for this Dockerfile (`levels`).
    mutating func apply(_ instruction: DockerfileInstruction, levels: inout ShellScript.Levels) {
        switch instruction.keyword {
        case "FROM":
            let words = instruction.operandWords
            if words.count >= 3, words[words.count - 2].lowercased() == "as" {
                stageNames.insert(words[words.count - 1].lowercased())
            }
            stageCount += 1
            workdir = "/"
            shell = nil
        case "SHELL":
            shell = instruction.execForm
        case "WORKDIR":
            workdir = resolve(expand(String(instruction.operands)))
        case "ARG", "ENV":
            for (name, value) in Self.declarations(instruction) { variables[name] = expand(value) }
        case "RUN", "COPY", "ADD":
            let bodies = instruction.heredocs.map(\.body)
            for text in [instruction.arguments] + bodies {
                rootNames.formUnion(Self.passwdLinesWithUIDZero(text))
            }
            // The commands as the hints read them: after the flags, the exec form as words
            // (`RUN --network=none useradd -o -u 0 toor` makes toor root all the same).
            if instruction.keyword == "RUN" {
                for text in [DockerfileRisks.runCommand(instruction)] + bodies {
                    for command in ShellScript(text, levels: &levels).commands {
                        if let name = AccountCommands.userMadeRoot(command) { rootNames.insert(name) }
                    }
                }
            }
        default:
            break
        }
    }

    /// `$NAME`, `${NAME}` and `${NAME:-default}` replaced by what the file set them to.
    func expand(_ text: String) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            var name = ""
            var fallback: String?
            if rest.first == "{", let close = rest.firstIndex(of: "}") {
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                if let colon = inner.range(of: ":-") ?? inner.range(of: ":+") {
                    name = String(inner[..<colon.lowerBound])
                    fallback = String(inner[colon.upperBound...])
                } else {
                    name = String(inner)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex { !($0 == "_" || $0.isLetter || $0.isNumber) } ?? rest.endIndex
                name = String(rest[..<end])
                rest = rest[end...]
            }
            if name.isEmpty {
                result += "$"
            } else if let value = variables[name], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                result += "${\(name)}"
            }
        }
        return result + rest
    }

    /// An absolute, normalised path: relative ones under ``workdir``, `.`, `..` and `//` resolved.
    func resolve(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : workdir + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        let joined = "/" + parts.joined(separator: "/")
        return path.hasSuffix("/") && joined != "/" ? joined + "/" : joined
    }

    /// The names `ENV a=1 b=2`, `ENV a 1` or `ARG a=1` declares, with their values.
    static func declarations(_ instruction: DockerfileInstruction) -> [(String, String)] {
        let words = instruction.operandWords
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            return [(first, instruction.keyword == "ENV" ? words.dropFirst().joined(separator: " ") : "")]
        }
        return words.compactMap { word in
            guard let equals = word.firstIndex(of: "=") else { return nil }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    /// User names that `text` writes as `/etc/passwd` lines with uid 0 (`toor:x:0:0::/root:/bin/sh`).
    static func passwdLinesWithUIDZero(_ text: String) -> [String] {
        var names: [String] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "'" || $0 == "\"" || $0 == " " }) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, !fields[0].isEmpty,
                fields[0].allSatisfy({ $0.isLetter || $0.isNumber || "_-.$".contains($0) }),
                AccountCommands.isZero(String(fields[2]))
            else { continue }
            names.append(String(fields[0]))
        }
        return names
    }
}
