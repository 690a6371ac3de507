import Foundation
import Queue

/// Risk rules for the bottle's Dockerfile (`capability-block`): what the
/// instructions a proposal adds would run, fetch or bake into the image.
///
/// Rules (docs/risk-hints.md): `pipe-to-shell`, `add-from-url`,
/// `runs-as-root`, `root-group`, `unpinned-base-image`, `changed-base-image`,
/// `secret-in-image`, `world-writable`, `new-package-source`, `sudo-nopasswd`,
/// `host-tool-setting`, and the paths to root of ``DockerfilePrivilegeRisks``
/// (`account-file`, `root-account`, `setuid-file`, `file-capability`,
/// `build-privilege`, `remote-content`, `remote-package`,
/// `unreadable-command`). An `ONBUILD` is read as the instruction it carries.
/// An instruction counts as added when the current file has no instruction
/// with the same keyword, arguments and heredocs; `USER` and `FROM` are
/// judged on the file's final stage as a whole.
enum DockerfileRisks {
    static func assess(proposed: String, current: String?) -> [RiskHint] {
        guard let document = try? DockerfileDocument.parse(proposed) else { return [] }
        let before = (current.flatMap { try? DockerfileDocument.parse($0) })?.instructions ?? []
        let existing = Set(before.map(Signature.init))
        var hints: [RiskHint] = []
        // The state is kept over every instruction (a WORKDIR or ARG the
        // proposal did not change still decides where a new COPY lands).
        var state = DockerfileBuildState()
        // Every shell text is read once for the whole assessment (the build state and the rules
        // read each RUN's text; see `ShellScript.Levels`).
        var levels: ShellScript.Levels = [:]
        for instruction in document.instructions {
            if !existing.contains(Signature(instruction)) {
                hints += DockerfileRisks.hints(for: instruction, state: state, levels: &levels)
            }
            state.apply(instruction, levels: &levels)
        }
        var stateBefore = DockerfileBuildState()
        before.forEach { stateBefore.apply($0, levels: &levels) }
        hints += userHints(document.instructions, state: state, before: before, stateBefore: stateBefore)
        hints += baseImageHints(document.instructions, before: before)
        return hints
    }

    /// What makes two instructions the same, whatever line they are on.
    private struct Signature: Hashable {
        let keyword: String
        let arguments: String
        let bodies: [String]
        init(_ instruction: DockerfileInstruction) {
            keyword = instruction.keyword
            arguments = instruction.arguments
            bodies = instruction.heredocs.map(\.body)
        }
    }

    // MARK: - One instruction

    private static func hints(
        for instruction: DockerfileInstruction, state: DockerfileBuildState, levels: inout ShellScript.Levels
    ) -> [RiskHint] {
        let line = instruction.line
        let text = ([instruction.arguments] + instruction.heredocs.map(\.body)).joined(separator: "\n")
        let lower = text.lowercased()
        var hints: [RiskHint] = []
        switch instruction.keyword {
        case "RUN":
            let flags = instruction.flags
            hints += DockerfilePrivilegeRisks.runFlagHints(flags, state: state, line: line)
            let command = runCommand(instruction)
            var runHints: [RiskHint] = []
            let bodies = instruction.heredocs.map(\.body)
            for (index, script) in ([command] + bodies).enumerated() {
                for hint in DockerfilePrivilegeRisks.runHints(
                    script, flags: flags, state: state, line: line, stdin: index == 0 ? bodies : [], levels: &levels)
                where !runHints.contains(where: { $0.rule == hint.rule }) {
                    runHints.append(hint)
                }
            }
            if !runHints.contains(where: { $0.rule == "unreadable-command" }),
                let reason = unreadScript(instruction, command: command, state: state)
            {
                runHints.append(RiskHint(.warning, "unreadable-command", reason, line: line))
            }
            hints += runHints
            hints += commandHints(lower, line: line)
        case "SHELL":
            var shell = DockerfileBuildState()
            shell.apply(instruction)
            if let name = shell.unreadShell {
                hints.append(
                    RiskHint(
                        .warning, "unreadable-command",
                        "SHELL makes the RUN steps after it run by \(name), not a POSIX shell: the hints cannot read those steps; read them yourself",
                        line: line))
            }
        case "ONBUILD":
            // The trigger runs in every build FROM this image: its hints are this line's.
            if let trigger = instruction.onbuildTrigger {
                hints += Self.hints(for: trigger, state: state, levels: &levels).map { hint in
                    RiskHint(hint.severity, hint.rule, "ONBUILD \(trigger.keyword): \(hint.reason) (in every build FROM this image)", line: line)
                }
            }
        case "ADD":
            hints += DockerfilePrivilegeRisks.copyHints(instruction, state: state)
            let sources = instruction.operandWords.dropLast()
            let remote = ["http://", "https://", "git@", "git://", "ssh://", "ftp://"]
            if !hints.contains(where: { $0.rule == "account-file" }),
                let hint = DockerfilePrivilegeRisks.localArchiveHint(instruction, state: state, remote: remote)
            {
                hints.append(hint)
            }
            if let url = sources.first(where: { source in remote.contains { source.lowercased().hasPrefix($0) } }) {
                let pinned = !instruction.flagValues("checksum").isEmpty
                hints.append(
                    RiskHint(
                        pinned ? .notice : .warning, "add-from-url",
                        "ADD fetches \(url) at build time" + (pinned ? " (with a checksum)" : " with no checksum: its content can change"),
                        line: line))
            }
        case "ENV", "ARG":
            for name in declaredNames(instruction.arguments) where looksSecret(name) {
                hints.append(
                    RiskHint(
                        .warning, "secret-in-image",
                        "\(instruction.keyword) \(name) looks like a secret: its value is kept in the image's history for anyone who can pull it",
                        line: line))
            }
            if instruction.keyword == "ENV" { hints += hostToolHints(instruction, line: line) }
        case "LABEL":
            hints += hostToolHints(instruction, line: line)
        case "COPY":
            hints += DockerfilePrivilegeRisks.copyHints(instruction, state: state)
            hints += commandHints(lower, line: line)
        default:
            break
        }
        return hints
    }

    /// Why the hints cannot read a `RUN`'s script: the stage's `SHELL` is not
    /// a POSIX shell, a heredoc starts with a `#!` line naming another
    /// interpreter, or a heredoc is fed to one (`RUN python3 <<EOF`).
    private static func unreadScript(_ instruction: DockerfileInstruction, command: String, state: DockerfileBuildState) -> String? {
        if instruction.execForm == nil, let name = state.unreadShell {
            return "this RUN is run by \(name) (the SHELL instruction): the hints read only POSIX shell; read it yourself"
        }
        for heredoc in instruction.heredocs where heredoc.body.hasPrefix("#!") {
            let line = heredoc.body.dropFirst(2).prefix { $0 != "\n" }
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.first.map(ShellScript.basename) == "env" {
                words = Array(words.dropFirst().drop { $0.hasPrefix("-") || ShellScript.isAssignment($0) })
            }
            let name = words.first.map(ShellScript.basename) ?? ""
            if !DockerfileBuildState.posixShells.contains(name) {
                return "the heredoc \(heredoc.name) starts with #!\(line.trimmingCharacters(in: .whitespaces)): it is run by \(name.isEmpty ? "an unnamed program" : name), "
                    + "which the hints cannot read; read it yourself"
            }
        }
        if !instruction.heredocs.isEmpty {
            for found in ShellScript(command).commands {
                guard let program = found.program, ShellScript.isInterpreter(program),
                    !DockerfileBuildState.posixShells.contains(program), !["source", ".", "eval", "su"].contains(program)
                else { continue }
                return "the heredoc is given to \(program), which the hints cannot read; read it yourself"
            }
        }
        return nil
    }

    /// Hints that apply to any text that ends up as commands or files.
    private static func commandHints(_ lower: String, line: Int) -> [RiskHint] {
        var hints: [RiskHint] = []
        if lower.mentions("chmod") && (lower.mentions("777") || lower.mentions("a+rwx") || lower.mentions("o+w") || lower.mentions("a+w")) {
            hints.append(
                RiskHint(.warning, "world-writable", "makes files writable by every user (chmod 777 or o+w)", line: line))
        }
        let sourceMarkers = [
            "sources.list", "add-apt-repository", "apt-key", "/etc/apt/keyrings", "trusted.gpg",
            "--index-url", "--extra-index-url", "--trusted-host", "pip config set", "npm config set registry",
            "yarn config set registry", "--registry", "gem sources", "/etc/apk/repositories", ".repo ", "yum-config-manager",
            "dnf config-manager", "zypper addrepo", "zypper ar ",
        ]
        if let marker = sourceMarkers.first(where: lower.mentions) {
            hints.append(
                RiskHint(
                    .warning, "new-package-source",
                    "adds or changes a package source (\(marker.split(separator: " ").joined())): later installs come from it",
                    line: line))
        }
        if lower.mentions("nopasswd") || lower.mentions("/etc/sudoers") {
            hints.append(
                RiskHint(
                    .critical, "sudo-nopasswd", "gives a user sudo rights (sudoers or NOPASSWD): the agent can become root",
                    line: line))
        }
        return hints
    }

    /// The shell text a `RUN` runs: its operands after the flags, or the exec
    /// form quoted back into shell words (`["sh", "-c", "…"]` reads as `sh -c '…'`).
    /// Every rule that reads a `RUN`'s commands reads this text, so a flag in
    /// front (`RUN --network=none useradd …`) is not taken for the program.
    static func runCommand(_ instruction: DockerfileInstruction) -> String {
        instruction.execForm.map { $0.map(Self.shellQuoted).joined(separator: " ") } ?? String(instruction.operands)
    }

    /// `word` in single quotes, as a shell reads it back.
    private static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The names `ENV a=1 b=2`, `ENV a 1` or `ARG a=1` declares.
    private static func declaredNames(_ arguments: String) -> [String] {
        let words = arguments.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else { return [] }
        if !first.contains("=") { return [String(first)] }
        return words.compactMap { word in
            guard let equals = word.firstIndex(of: "=") else { return nil }
            return String(word[..<equals])
        }
    }

    /// `LABEL` keys and `ENV` names that programs on the host act on when the
    /// container runs: the replacement recreates the bottle from this image,
    /// and the engine merges the image's labels and environment into the
    /// container's, where a reverse proxy (Traefik, Caddy, nginx-proxy), an
    /// updater or compose would read them (docs/security.md).
    private static func hostToolHints(_ instruction: DockerfileInstruction, line: Int) -> [RiskHint] {
        let labelPrefixes = [
            "traefik.", "caddy", "com.centurylinklabs.watchtower.", "io.containers.autoupdate", "com.docker.compose.",
        ]
        let environmentNames: Set<String> = ["VIRTUAL_HOST", "VIRTUAL_PORT", "LETSENCRYPT_HOST", "LETSENCRYPT_EMAIL"]
        var hints: [RiskHint] = []
        for raw in declaredNames(instruction.arguments) {
            let quotes: Set<Character> = ["\"", "'"]
            let name = String(raw.drop { quotes.contains($0) }.reversed().drop { quotes.contains($0) }.reversed())
            let read =
                instruction.keyword == "LABEL"
                ? labelPrefixes.contains { name.lowercased().hasPrefix($0) } : environmentNames.contains(name)
            guard read else { continue }
            hints.append(
                RiskHint(
                    .warning, "host-tool-setting",
                    "\(instruction.keyword) \(name) is read by tools on the host (reverse proxies, updaters, compose) "
                        + "once the bottle runs this image: it could publish or reconfigure the bottle",
                    line: line))
        }
        return hints
    }

    private static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        let markers = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH"]
        return markers.contains(where: upper.contains)
    }

    // MARK: - The file as a whole

    /// The instructions of the final stage (from the last `FROM` on).
    private static func finalStage(_ instructions: [DockerfileInstruction]) -> ArraySlice<DockerfileInstruction> {
        let start = instructions.lastIndex { $0.keyword == "FROM" } ?? instructions.startIndex
        return instructions[start...]
    }

    /// The user the final stage ends as, and the line that sets it (`nil`: no `USER`, so root).
    private static func finalUser(_ instructions: [DockerfileInstruction]) -> (user: String, line: Int)? {
        guard let user = finalStage(instructions).last(where: { $0.keyword == "USER" }) else { return nil }
        return (user.operandWords.joined(separator: " "), user.line)
    }

    /// Whether a `USER` value resolves to uid 0: `root`, `0`, `00`, `+0`, a
    /// variable whose value is one of those, or a name this file made uid 0.
    private static func isRoot(_ user: (user: String, line: Int)?, state: DockerfileBuildState) -> Bool {
        guard let user else { return true }
        let name = userPart(user.user, state: state).user
        return state.rootNames.contains(name) || AccountCommands.isZero(name) || name.isEmpty
    }

    /// The user and group halves of a `USER` value, variables expanded.
    private static func userPart(_ value: String, state: DockerfileBuildState) -> (user: String, group: String?) {
        let expanded = state.expand(value).trimmingCharacters(in: .whitespaces)
        let parts = expanded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : nil)
    }

    private static func userHints(
        _ instructions: [DockerfileInstruction], state: DockerfileBuildState, before: [DockerfileInstruction],
        stateBefore: DockerfileBuildState
    ) -> [RiskHint] {
        let after = finalUser(instructions)
        guard isRoot(after, state: state) else {
            guard let after, let group = userPart(after.user, state: state).group,
                AccountCommands.isZero(group) || group == "root"
            else { return [] }
            let wasSame = finalUser(before).map { userPart($0.user, state: stateBefore).group } == group
            return wasSame
                ? []
                : [
                    RiskHint(
                        .warning, "root-group",
                        "the bottle runs with root's group (USER \(after.user)): it can write every file root's group can",
                        line: after.line)
                ]
        }
        let wasRoot = !before.isEmpty && isRoot(finalUser(before), state: stateBefore)
        var how = after == nil ? "no USER after the last FROM" : "USER \(after!.user)"
        if let after {
            let name = userPart(after.user, state: state).user
            if name != after.user.split(separator: ":").first.map(String.init) ?? "" { how += ", which is \(name)" }
            if name != "root", !AccountCommands.isZero(name), state.rootNames.contains(name) {
                how += ", a user this Dockerfile gave uid 0"
            }
        }
        return [
            RiskHint(
                wasRoot ? .notice : .warning, "runs-as-root",
                "the bottle runs as root (\(how))" + (wasRoot ? ", as it did before" : ""), line: after?.line)
        ]
    }

    /// The image the final stage starts from (`nil` for a stage name or `scratch`).
    private static func baseImage(_ instructions: [DockerfileInstruction]) -> (image: String, line: Int)? {
        let stages = Set(instructions.filter { $0.keyword == "FROM" }.compactMap { from -> String? in
            let words = from.arguments.split(separator: " ")
            guard words.count >= 3, words[words.count - 2].lowercased() == "as" else { return nil }
            return String(words[words.count - 1]).lowercased()
        })
        guard let from = instructions.last(where: { $0.keyword == "FROM" }) else { return nil }
        guard let image = from.arguments.split(separator: " ").first(where: { !$0.hasPrefix("--") }).map(String.init),
            image.lowercased() != "scratch", !stages.contains(image.lowercased())
        else { return nil }
        return (image, from.line)
    }

    private static func baseImageHints(_ instructions: [DockerfileInstruction], before: [DockerfileInstruction]) -> [RiskHint] {
        guard let base = baseImage(instructions) else { return [] }
        var hints: [RiskHint] = []
        let previous = baseImage(before)
        if let previous, previous.image != base.image {
            hints.append(
                RiskHint(
                    .warning, "changed-base-image", "the base image changes from \(previous.image) to \(base.image)",
                    line: base.line))
        }
        if !base.image.contains("@sha256:"), !base.image.hasPrefix("$"), previous?.image != base.image {
            let lastPart = base.image.split(separator: "/").last ?? Substring(base.image)
            let tag = lastPart.split(separator: ":").dropFirst().first
            if tag == nil || tag == "latest" {
                hints.append(
                    RiskHint(
                        .warning, "unpinned-base-image",
                        "the base image \(base.image) is not pinned (no tag or :latest, no digest): each build may get another image",
                        line: base.line))
            }
        }
        return hints
    }
}
