import Foundation

/// The Dockerfile's paths to root, and to code or files nobody reviewed
/// (docs/risk-hints.md, "The Dockerfile path to root"):
/// - `account-file`: a write to `/etc/passwd`, `group`, `shadow`,
///   `gshadow`, `sudoers` (and `sudoers.d`), `doas.conf`, `pam.d`,
///   `security/` or `ld.so.preload`, by any writer (`>`/`>>`, `tee`,
///   `sed -i`, `cp`, `dd of=`, `chmod`, an interpreter) or by `COPY`/`ADD`;
/// - `root-account`: `useradd`/`usermod`/`adduser`/`groupadd`/`gpasswd` to
///   uid or gid 0, a shared uid, or a group that is root in all but name;
///   root's password;
/// - `setuid-file` and `file-capability`: `chmod u+s`/`4755` (any spelling),
///   `install -m 4755`, `COPY --chmod=4755`, `setcap`, `setfattr -n security.capability`;
/// - `build-privilege`: `RUN --network=host`, `--security=insecure`,
///   `--device`, and secret or ssh mounts;
/// - `remote-content`: `COPY --from=<an image>` and `RUN --mount=from=<an image>`;
/// - `pipe-to-shell`: a download run as a script, written any way.
enum DockerfilePrivilegeRisks {
    /// Files whose content decides who is root.
    static let accountFiles = [
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d/*",
        "/etc/doas.conf", "/etc/pam.d/*", "/etc/security/*", "/etc/ld.so.preload", "/etc/passwd-", "/etc/shadow-",
        "/etc/subuid", "/etc/subgid",
    ]

    /// Whether the absolute path (or glob) `path` names one of ``accountFiles``.
    static func isAccountFile(_ path: String) -> Bool {
        for file in accountFiles {
            if fnmatch(file, path, FNM_PATHNAME) == 0 { return true }
            // `path` is itself a glob the shell expands: `/etc/pass*`, `/etc/[p]asswd`.
            let concrete = file.hasSuffix("/*") ? String(file.dropLast(2)) + "/x" : file
            if path.contains(where: { "*?[".contains($0) }), fnmatch(path, concrete, FNM_PATHNAME) == 0 { return true }
        }
        return false
    }

    /// The hints for one `RUN`'s shell text (arguments or a heredoc body).
    static func runHints(_ text: String, flags: [DockerfileFlag], state: DockerfileBuildState, line: Int) -> [RiskHint] {
        let script = ShellScript(text)
        var hints: [RiskHint] = []
        if let reason = pipeToShell(script) {
            hints.append(RiskHint(.critical, "pipe-to-shell", reason, line: line))
        }
        var cwd = state
        var accountReason: String?
        var rootReason: String?
        var setuidReason: String?
        var capabilityReason: String?
        var assignments = cwd
        var rootFeeders: [Int: Int] = [:]
        for command in script.commands
        where rootFeeders[command.pipeline] == nil && command.words.contains(where: { $0.hasPrefix("root:") || $0.contains("\nroot:") }) {
            rootFeeders[command.pipeline] = command.stage
        }
        for command in script.commands {
            // Assignments made earlier in the script count for later words (`F=/etc/passwd; echo >> $F`).
            for word in command.words.prefix(while: ShellScript.isAssignment) {
                let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                assignments.variables[String(parts[0])] = assignments.expand(String(parts[1]))
            }
            cwd.variables = assignments.variables
            let program = command.program
            if program == "cd", let target = command.arguments.first {
                cwd.workdir = cwd.resolve(cwd.expand(target))
                continue
            }
            if accountReason == nil, let target = writtenAccountFile(command, state: cwd) {
                accountReason = "writes \(target), which decides who is root (\(program ?? "a redirection"))"
            }
            if rootReason == nil { rootReason = AccountCommands.rootGrant(command) }
            if rootReason == nil, program == "chpasswd", rootPasswordFed(to: command, feeders: rootFeeders) {
                rootReason = "chpasswd sets root's password"
            }
            if setuidReason == nil { setuidReason = setuid(command) }
            if capabilityReason == nil { capabilityReason = fileCapability(command) }
        }
        if let accountReason { hints.append(RiskHint(.critical, "account-file", accountReason, line: line)) }
        if let rootReason { hints.append(RiskHint(.critical, "root-account", rootReason, line: line)) }
        if let setuidReason {
            let onlyGroup = setuidReason.contains("makes setgid files")
            hints.append(RiskHint(onlyGroup ? .warning : .critical, "setuid-file", setuidReason, line: line))
        }
        if let capabilityReason { hints.append(RiskHint(.critical, "file-capability", capabilityReason, line: line)) }
        return hints
    }

    /// Hints from `RUN`'s flags.
    static func runFlagHints(_ flags: [DockerfileFlag], state: DockerfileBuildState, line: Int) -> [RiskHint] {
        var hints: [RiskHint] = []
        for flag in flags {
            // BuildKit expands build arguments in flag values: `ARG N=host` + `RUN --network=$N`.
            let value = state.expand(flag.value ?? "").lowercased()
            switch flag.name {
            case "network" where value == "host":
                hints.append(
                    RiskHint(
                        .critical, "build-privilege",
                        "RUN --network=host runs the step in the host's network namespace: it reaches the host's "
                            + "services, its metadata service and the internet past the bottle's allowlist",
                        line: line))
            case "security" where value == "insecure":
                hints.append(
                    RiskHint(
                        .critical, "build-privilege",
                        "RUN --security=insecure runs the step as a privileged container: root on the build host",
                        line: line))
            case "device":
                hints.append(
                    RiskHint(.critical, "build-privilege", "RUN --device gives the step a host device (\(flag.value ?? ""))", line: line))
            case "mount":
                let type = flag.field("type")?.lowercased() ?? "bind"
                if type == "secret" {
                    hints.append(
                        RiskHint(
                            .warning, "build-privilege",
                            "RUN --mount=type=secret hands the step a build secret (\(flag.field("id") ?? flag.field("src") ?? "unnamed")): "
                                + "the step can copy it into the image or send it out", line: line))
                } else if type == "ssh" {
                    hints.append(
                        RiskHint(
                            .warning, "build-privilege",
                            "RUN --mount=type=ssh hands the step the build host's SSH agent: it can sign in wherever those keys can",
                            line: line))
                }
                if let from = flag.field("from"), let hint = remoteImageHint(from, state: state, how: "RUN --mount=from", line: line) {
                    hints.append(hint)
                }
            default:
                break
            }
        }
        return hints
    }

    /// Hints for `COPY`/`ADD`: destinations over account files, `--from` an image, `--chmod` with setuid.
    static func copyHints(_ instruction: DockerfileInstruction, state: DockerfileBuildState) -> [RiskHint] {
        let line = instruction.line
        var hints: [RiskHint] = []
        for from in instruction.flagValues("from") {
            if let hint = remoteImageHint(from, state: state, how: "\(instruction.keyword) --from", line: line) {
                hints.append(hint)
            }
        }
        for mode in instruction.flagValues("chmod") {
            guard let bits = setuidBits(mode) else { continue }
            hints.append(
                RiskHint(
                    bits == "setgid" ? .warning : .critical, "setuid-file",
                    "\(instruction.keyword) --chmod=\(mode) makes \(bits) files: they run with their owner's rights", line: line))
        }
        let words = instruction.operandWords.filter { !$0.hasPrefix("<<") }
        guard let destinationWord = words.last else { return hints }
        let destination = state.resolve(state.expand(destinationWord))
        let sources = instruction.heredocs.isEmpty ? Array(words.dropLast()) : instruction.heredocs.map(\.name)
        var landing: [String] = []
        // A destination is a directory when written as one (`/etc/`, `.`), when several
        // sources go there, or when it is a directory every image has (`COPY passwd /etc`).
        let knownDirectories: Set<String> = ["/", "/etc", "/etc/sudoers.d", "/etc/pam.d", "/etc/security"]
        if destination.hasSuffix("/") || sources.count > 1 || knownDirectories.contains(destination)
            || destinationWord == "." || destinationWord.hasSuffix("/.")
        {
            let directory = destination.hasSuffix("/") ? destination : destination + "/"
            for source in sources {
                let name = ShellScript.basename(source.hasSuffix("/") ? String(source.dropLast()) : source)
                if source.hasSuffix("/") || name == "." || name.isEmpty || name.contains("*") {
                    // A directory's content (or a glob) lands in `directory`: whatever the context holds.
                    if accountFiles.contains(where: { $0.hasPrefix(directory) || $0.hasPrefix(directory + "etc/") })
                        || directory == "/" || directory == "/etc/"
                    {
                        hints.append(
                            RiskHint(
                                .warning, "account-file",
                                "\(instruction.keyword) copies \(source) into \(directory), which holds /etc/passwd and the "
                                    + "other files that decide who is root: check what the source contains", line: line))
                    }
                } else {
                    landing.append(directory + name)
                }
            }
        } else {
            landing.append(destination)
        }
        if let target = landing.first(where: isAccountFile) {
            hints.append(
                RiskHint(
                    .critical, "account-file",
                    "\(instruction.keyword) writes \(target), which decides who is root", line: line))
        }
        return hints
    }

    /// A warning when `from` names an image rather than a stage of this file.
    static func remoteImageHint(_ from: String, state: DockerfileBuildState, how: String, line: Int) -> RiskHint? {
        let name = state.expand(from)
        if state.stageNames.contains(name.lowercased()) { return nil }
        if let index = Int(name), index >= 0, index < state.stageCount { return nil }
        let pinned = name.contains("@sha256:")
        return RiskHint(
            pinned ? .notice : .warning, "remote-content",
            "\(how)=\(name) takes files from the image \(name), not from a stage of this Dockerfile"
                + (pinned ? " (pinned by digest)" : ": whoever publishes it decides what they are"),
            line: line)
    }

    // MARK: - Commands

    /// The account file `command` writes, if any.
    private static func writtenAccountFile(_ command: ShellScript.Command, state: DockerfileBuildState) -> String? {
        let words = command.words
        var targets: [String] = []
        // Redirections: `>`, `>>` and the word after.
        for (index, word) in words.enumerated() where (word == ">" || word == ">>") && index + 1 < words.count {
            targets.append(words[index + 1])
        }
        let all = command.arguments
        let arguments = all.filter { !$0.hasPrefix("-") }
        let options = all.filter { $0.hasPrefix("-") }
        switch command.program ?? "" {
        case "tee", "ex", "ed", "vi", "vim", "nano", "chmod", "chown", "chgrp", "chattr", "truncate", "touch", "rm",
            "unlink", "setfacl", "mv", "patch", "sponge", "vipw", "vigr", "visudo", "shred":
            targets += arguments
        case "cp", "install", "ln", "rsync", "scp":
            targets += arguments.suffix(1)
            if let t = all.firstIndex(where: { $0 == "-t" || $0 == "--target-directory" }), t + 1 < all.count {
                targets += arguments.map { all[t + 1] + "/" + ShellScript.basename($0) }
            }
        case "sed" where options.contains { $0.hasPrefix("-i") || $0.hasPrefix("--in-place") || ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("i")) }:
            targets += arguments
        case "perl" where options.contains { !$0.hasPrefix("--") && $0.contains("i") }:
            targets += arguments
        case "awk" where all.contains("inplace"), "gawk" where all.contains("inplace"):
            targets += arguments
        case "dd":
            targets += all.filter { $0.hasPrefix("of=") }.map { String($0.dropFirst(3)) }
        default:
            if let program = command.program, ShellScript.isInterpreter(program) { targets += arguments }
        }
        // Interpreters' scripts and `-c` strings: any path named in them.
        for target in targets {
            let expanded = state.expand(target)
            for candidate in [expanded] + pathsInside(expanded) {
                let path = state.resolve(candidate)
                if isAccountFile(path) { return path }
            }
        }
        return nil
    }

    /// Absolute paths mentioned inside a word (a script passed as one argument).
    private static func pathsInside(_ word: String) -> [String] {
        guard word.contains("/etc") else { return [] }
        return word.components(separatedBy: CharacterSet(charactersIn: " \t\n'\"(),;=<>")).filter { $0.hasPrefix("/") }
    }

    /// Whether `root:` is fed to `chpasswd` by an earlier stage of its pipeline
    /// (`feeders`: the first stage of each pipeline that writes a `root:` line).
    private static func rootPasswordFed(to command: ShellScript.Command, feeders: [Int: Int]) -> Bool {
        feeders[command.pipeline].map { $0 < command.stage } ?? false
    }

    /// Why `command` sets a setuid or setgid bit.
    private static func setuid(_ command: ShellScript.Command) -> String? {
        let arguments = command.arguments
        switch command.program ?? "" {
        case "chmod":
            for word in arguments {
                if let bits = setuidBits(word) { return "chmod \(word) makes \(bits) files: they run with their owner's rights" }
            }
        case "install", "mkdir":
            for (index, word) in arguments.enumerated() {
                var mode: String?
                if word == "-m" || word == "--mode", index + 1 < arguments.count { mode = arguments[index + 1] }
                if word.hasPrefix("--mode=") { mode = String(word.dropFirst(7)) }
                if word.hasPrefix("-m"), word.count > 2 { mode = String(word.dropFirst(2)) }
                if let mode, let bits = setuidBits(mode) {
                    return "\(command.program!) -m \(mode) makes \(bits) files: they run with their owner's rights"
                }
            }
        default:
            break
        }
        return nil
    }

    /// "setuid", "setgid" or "setuid and setgid" when `mode` (octal or
    /// symbolic, as `chmod` reads it) sets those bits; `nil` otherwise.
    static func setuidBits(_ mode: String) -> String? {
        var user = false, group = false
        if !mode.isEmpty, mode.allSatisfy({ ("0"..."7").contains($0) }) {
            guard mode.count >= 4, let value = Int(mode, radix: 8) else { return nil }
            user = value & 0o4000 != 0
            group = value & 0o2000 != 0
        } else {
            // Symbolic clauses: [ugoa]*([-+=][rwxXstugo]*)+, comma-separated.
            for clause in mode.split(separator: ",") {
                let who = clause.prefix { "ugoa".contains($0) }
                var rest = clause.dropFirst(who.count)
                guard let first = rest.first, "+-=".contains(first) else { return nil }
                var adding = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if "+=".contains(c) {
                        adding = true
                    } else if c == "-" {
                        adding = false
                    } else if c == "s", adding {
                        if who.isEmpty || who.contains("u") || who.contains("a") { user = true }
                        if who.isEmpty || who.contains("g") || who.contains("a") { group = true }
                    } else if !"rwxXstugo".contains(c) {
                        return nil
                    }
                }
            }
        }
        switch (user, group) {
        case (true, true): return "setuid and setgid"
        case (true, false): return "setuid"
        case (false, true): return "setgid"
        default: return nil
        }
    }

    private static func fileCapability(_ command: ShellScript.Command) -> String? {
        switch command.program ?? "" {
        case "setcap":
            let capability = command.arguments.first { !$0.hasPrefix("-") } ?? ""
            return "setcap gives a file capabilities (\(capability)): it runs with privileges whoever starts it"
        case "setfattr" where command.arguments.contains { $0.contains("security.capability") }:
            return "setfattr writes security.capability: file capabilities by another name"
        default:
            return nil
        }
    }

    // MARK: - Pipe to shell

    /// Why `script` runs a download as a script; `nil` when it does not.
    static func pipeToShell(_ script: ShellScript) -> String? {
        let commands = script.commands
        func isFetch(_ command: ShellScript.Command) -> Bool {
            guard let program = command.program else { return false }
            if ShellScript.fetchers.contains(program) { return true }
            // `python3 -c "import urllib.request…"`, `perl -MLWP::Simple -e …`, `nc host 80`.
            let text = command.words.joined(separator: " ")
            return ShellScript.isInterpreter(program)
                && (text.contains("urllib") || text.contains("requests.get") || text.contains("LWP::")
                    || text.contains("http.client") || text.contains("Net::HTTP") || text.contains("fetch("))
        }
        func mentionsFetch(_ word: String) -> Bool {
            guard word.contains("$(") || word.contains("<(") else { return false }
            return ShellScript(String(word)).commands.contains(where: isFetch)
                || ShellScript.fetchers.contains { word.contains("(\($0) ") || word.contains("(\($0)") }
        }
        // 1. A fetch piped into an interpreter, however many stages apart. The first fetch
        // stage of each pipeline is found in one pass: a RUN of 100,000 `| sh` stays linear.
        var firstFetch: [Int: Int] = [:]
        for command in commands where firstFetch[command.pipeline] == nil && isFetch(command) {
            firstFetch[command.pipeline] = command.stage
        }
        for command in commands {
            guard let program = command.program, ShellScript.isInterpreter(program) else { continue }
            if let fetch = firstFetch[command.pipeline], fetch < command.stage {
                return "a download is piped into \(program) and run without being checked"
            }
            // 2. `sh -c "$(curl …)"`, `bash <(curl …)`, `eval "$(wget -O- …)"`, `python - < <(curl …)`.
            if ShellScript.isInterpreter(program), command.arguments.contains(where: mentionsFetch) {
                return "\(program) runs what a download prints (command or process substitution) without it being checked"
            }
        }
        // 3. Downloaded to a file, then run: `curl -o /tmp/i.sh … && sh /tmp/i.sh`, `wget -O i; chmod +x i; ./i`.
        var downloaded: Set<String> = []
        let verifiers: Set<String> = ["sha256sum", "sha512sum", "sha1sum", "md5sum", "shasum", "gpg", "gpgv", "cosign", "minisign", "signify"]
        for command in commands {
            if let program = command.program, verifiers.contains(program) {
                downloaded.removeAll()  // checked before it runs
                continue
            }
            if isFetch(command) {
                let words = command.arguments
                for (index, word) in words.enumerated() {
                    if ["-o", "-O", "--output", "--output-document"].contains(word), index + 1 < words.count {
                        downloaded.insert(ShellScript.basename(words[index + 1]))
                    } else if word.hasPrefix("--output-document=") || word.hasPrefix("--output=") {
                        downloaded.insert(ShellScript.basename(String(word.split(separator: "=", maxSplits: 1)[1])))
                    } else if word.hasPrefix("-o") || word.hasPrefix("-O"), word.count > 2, !word.hasPrefix("--") {
                        downloaded.insert(ShellScript.basename(String(word.dropFirst(2))))
                    } else if word.hasPrefix("-"), !word.hasPrefix("--"), word.last == "o" || word.last == "O",
                        index + 1 < words.count
                    {
                        // Combined short options ending in the output one: `-fsSLo FILE`.
                        downloaded.insert(ShellScript.basename(words[index + 1]))
                    } else if word.hasPrefix("http://") || word.hasPrefix("https://") || word.hasPrefix("ftp://") {
                        // wget's default name: the URL's last path part.
                        if let last = word.split(separator: "/").last, !last.contains(":") {
                            downloaded.insert(String(last.split(separator: "?").first ?? last))
                        }
                    }
                }
                for (index, word) in command.words.enumerated() where word == ">" && index + 1 < command.words.count {
                    downloaded.insert(ShellScript.basename(command.words[index + 1]))
                }
                continue
            }
            downloaded.remove("-")
            guard !downloaded.isEmpty, let found = ShellScript.program(of: command.words) else { continue }
            let program = ShellScript.basename(found.word)
            if downloaded.contains(program), found.word.contains("/") {
                return "a downloaded file (\(program)) is run without being checked"
            }
            if ShellScript.isInterpreter(program),
                let script = command.arguments.first(where: { downloaded.contains(ShellScript.basename($0)) })
            {
                return "a downloaded file (\(ShellScript.basename(script))) is run by \(program) without being checked"
            }
        }
        return nil
    }
}
