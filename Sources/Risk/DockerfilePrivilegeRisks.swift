import Foundation
import Queue

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
/// - `remote-package`: `pip install https://…`, `npm install git+https://…`;
/// - `unreadable-command`: a program named by an expansion the hints cannot read;
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
        // `path` may itself be a glob the shell expands: `/etc/pass*`, `/etc/[p]asswd`.
        let isGlob = path.contains(where: { "*?[".contains($0) })
        // Every pattern starts with the literal `/etc/`: any other plain path matches none of them
        // (the common case, answered without a call to fnmatch per pattern).
        guard isGlob || path.hasPrefix("/etc/") else { return false }
        for (file, concrete) in zip(accountFiles, concreteAccountFiles) {
            if fnmatch(file, path, FNM_PATHNAME) == 0 { return true }
            if isGlob, fnmatch(path, concrete, FNM_PATHNAME) == 0 { return true }
        }
        return false
    }

    /// ``accountFiles`` as paths a glob can match (`/etc/sudoers.d/*` as `/etc/sudoers.d/x`).
    private static let concreteAccountFiles = accountFiles.map { file in
        file.hasSuffix("/*") ? String(file.dropLast(2)) + "/x" : file
    }

    /// The hints for one `RUN`'s shell text (arguments or a heredoc body);
    /// `stdin`: the heredoc bodies the instruction feeds its command (`RUN chpasswd <<EOF`).
    static func runHints(
        _ text: String, flags: [DockerfileFlag], state: DockerfileBuildState, line: Int, stdin: [String] = [],
        levels: inout ShellScript.Levels
    ) -> [RiskHint] {
        let script = ShellScript(text, levels: &levels)
        var hints: [RiskHint] = []
        if let reason = pipeToShell(script, levels: &levels) {
            hints.append(RiskHint(.critical, "pipe-to-shell", reason, line: line))
        }
        var cwd = state
        var accountReason: String?
        var archiveReason: String?
        var rootReason: String?
        var setuidReason: (reason: String, severity: RiskSeverity)?
        var capabilityReason: String?
        var remotePackageReason: String?
        var unreadableReason: String?
        var assignments = cwd
        var rootFeeders: [Int: Int] = [:]
        for command in script.commands
        where rootFeeders[command.pipeline] == nil && command.words.contains(where: { $0.hasPrefix("root:") || $0.mentions("\nroot:") }) {
            rootFeeders[command.pipeline] = command.stage
        }
        let commands = script.commands
        for (position, original) in commands.enumerated() {
            // Assignments made earlier in the script count for later words (`F=/etc/passwd; echo >> $F`).
            for word in original.words.prefix(while: ShellScript.isAssignment) {
                let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                assignments.variables[String(parts[0])] = assignments.expand(String(parts[1]))
            }
            cwd.variables = assignments.variables
            // A program named by an expansion: `c=chmod; $c u+s …` is read as `chmod u+s …`;
            // one the hints cannot read (`$(echo chmod)`, an unknown variable) is itself hinted.
            var command = original
            if let found = original.programWord, found.word.contains("$") {
                let expanded = cwd.expand(found.word)
                // (`$HOME/.cargo/bin/cargo`: only the directory is unknown, the program is cargo.)
                if expanded.contains("$(") || ShellScript.basename(expanded).contains("$") || expanded.isEmpty {
                    if unreadableReason == nil {
                        unreadableReason =
                            "the program that runs is named by an expansion (\(found.word)): the hints cannot tell what it is; read the line yourself"
                    }
                } else if !expanded.contains("$") {
                    let split = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
                    command.words = Array(original.words[..<found.index]) + split + original.words[(found.index + 1)...]
                }
            }
            let program = command.program
            if program == "cd", let target = command.arguments.first {
                cwd.workdir = cwd.resolve(cwd.expand(target))
                continue
            }
            if accountReason == nil, let target = writtenAccountFile(command, state: cwd) {
                accountReason = "writes \(target), which decides who is root (\(program ?? "a redirection"))"
            }
            if archiveReason == nil { archiveReason = archiveIntoSystem(command, state: cwd) }
            if rootReason == nil { rootReason = AccountCommands.rootGrant(command) }
            if rootReason == nil, program == "chpasswd" {
                // `echo root:x | chpasswd`, `chpasswd <<< root:x`, a heredoc of `root:` lines.
                let words = command.words
                let hereString = zip(words, words.dropFirst()).contains { $0 == "<" && $1.hasPrefix("root:") }
                let nextLine = position + 1 < commands.count && commands[position + 1].words.first?.hasPrefix("root:") == true
                let heredoc = stdin.contains { $0.split(separator: "\n").contains { $0.hasPrefix("root:") } }
                if rootPasswordFed(to: command, feeders: rootFeeders) || hereString || nextLine || heredoc {
                    rootReason = "chpasswd sets root's password"
                }
            }
            if setuidReason == nil { setuidReason = setuid(command, state: cwd) }
            if capabilityReason == nil { capabilityReason = fileCapability(command) }
            if remotePackageReason == nil { remotePackageReason = remotePackage(command) }
        }
        if let accountReason {
            hints.append(RiskHint(.critical, "account-file", accountReason, line: line))
        } else if let archiveReason {
            hints.append(RiskHint(.warning, "account-file", archiveReason, line: line))
        }
        if let rootReason { hints.append(RiskHint(.critical, "root-account", rootReason, line: line)) }
        if let setuidReason { hints.append(RiskHint(setuidReason.severity, "setuid-file", setuidReason.reason, line: line)) }
        if let capabilityReason { hints.append(RiskHint(.critical, "file-capability", capabilityReason, line: line)) }
        if let remotePackageReason { hints.append(RiskHint(.warning, "remote-package", remotePackageReason, line: line)) }
        if let unreadableReason { hints.append(RiskHint(.warning, "unreadable-command", unreadableReason, line: line)) }
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

    /// `ADD t.tar /etc/`, `ADD x.tar /`: ADD unpacks a local archive (whatever
    /// its name: BuildKit looks at the content) keeping its modes and owners,
    /// so it can drop `/etc/passwd` or setuid files where it lands.
    static func localArchiveHint(_ instruction: DockerfileInstruction, state: DockerfileBuildState, remote: [String]) -> RiskHint? {
        guard instruction.heredocs.isEmpty, instruction.flagValues("from").isEmpty else { return nil }
        let words = instruction.operandWords
        guard let destinationWord = words.last, words.count >= 2 else { return nil }
        let destination = state.resolve(state.expand(destinationWord))
        let trimmed = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        guard trimmed == "/" || trimmed == "/etc" || trimmed.hasPrefix("/etc/") else { return nil }
        let local = words.dropLast().filter { source in !remote.contains { source.lowercased().hasPrefix($0) } }
        guard let source = local.first else { return nil }
        return RiskHint(
            .warning, "account-file",
            "ADD \(source) into \(trimmed): ADD unpacks a local archive keeping its modes and owners, so it can replace "
                + "/etc/passwd or the other files that decide who is root, or add setuid files; check what it holds (COPY does not unpack)",
            line: instruction.line)
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
        writtenPaths(command, state: state).first(where: isAccountFile)
    }

    /// The paths `command` writes, expanded and resolved (with, for an
    /// interpreter's script or `-c` string, the `/etc` paths named in it).
    private static func writtenPaths(_ command: ShellScript.Command, state: DockerfileBuildState) -> [String] {
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
        case "tar", "bsdtar":
            // `tar xf t.tar -C /etc passwd`: the members named land under the directory.
            if let extraction = TarExtraction(command) {
                let directory = extraction.directory ?? "."
                targets += extraction.members.map { directory + "/" + $0 }
            }
        default:
            if let program = command.program, ShellScript.isInterpreter(program) { targets += arguments }
        }
        // Interpreters' scripts and `-c` strings: any path named in them.
        var paths: [String] = []
        for target in targets {
            let expanded = state.expand(target)
            for candidate in [expanded] + pathsInside(expanded) { paths.append(state.resolve(candidate)) }
        }
        return paths
    }

    /// Why `command` unpacks an archive over `/` or `/etc` (its members
    /// unread: any of them could be `/etc/passwd` or a setuid file).
    private static func archiveIntoSystem(_ command: ShellScript.Command, state: DockerfileBuildState) -> String? {
        guard let program = command.program, ["tar", "bsdtar"].contains(program), let extraction = TarExtraction(command)
        else { return nil }
        // Without -C the archive lands in the working directory: hinted when that is /etc
        // (the default `/` is where most builds unpack into a directory of their own).
        let directory = state.resolve(state.expand(extraction.directory ?? "."))
        guard extraction.directory != nil ? directory == "/" || isUnderEtc(directory) : isUnderEtc(directory) else {
            return nil
        }
        return "\(program) unpacks \(extraction.archive ?? "an archive") into \(directory) keeping its modes and owners: "
            + "it can replace /etc/passwd or the other files that decide who is root, or add setuid files; check what it holds"
    }

    private static func isUnderEtc(_ path: String) -> Bool { path == "/etc" || path.hasPrefix("/etc/") }

    /// Why `command` installs a package straight from a URL or a repository
    /// (`pip install https://…`, `npm install git+https://…`): code no index or lock file vouches for.
    private static func remotePackage(_ command: ShellScript.Command) -> String? {
        guard let program = command.program else { return nil }
        var arguments = command.arguments
        if program.hasPrefix("python"), arguments.starts(with: ["-m", "pip"]) { arguments.removeFirst(2) }
        let installers: Set<String> = ["pip", "pip3", "pipx", "uv", "npm", "pnpm", "yarn", "bun", "gem", "cargo", "composer"]
        guard installers.contains(program) || program.hasPrefix("pip3.") || program.hasPrefix("python") else { return nil }
        guard arguments.contains(where: { ["install", "add", "i"].contains($0) }) else { return nil }
        let remote = ["http://", "https://", "ftp://", "git+", "git://", "git@", "github:", "gitlab:", "bitbucket:"]
        // An option's value is no package (`--extra-index-url https://…` is `new-package-source`).
        let valued: Set<String> = [
            "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--proxy", "--registry",
            "-c", "--constraint", "-r", "--requirement", "--cert", "--client-cert", "--source", "--index",
        ]
        let packages = arguments.indices.filter { $0 == 0 || !valued.contains(arguments[$0 - 1]) }.map { arguments[$0] }
        if let source = packages.first(where: { word in remote.contains { word.lowercased().hasPrefix($0) } })
            ?? (program == "cargo" ? arguments.firstIndex(of: "--git").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } : nil)
        {
            return "\(program) installs a package straight from \(source): no package index or lock file vouches for what it runs at install time"
        }
        return nil
    }

    /// Absolute paths mentioned inside a word (a script passed as one argument).
    private static func pathsInside(_ word: String) -> [String] {
        guard word.mentions("/etc") else { return [] }
        return word.components(separatedBy: CharacterSet(charactersIn: " \t\n'\"(),;=<>")).filter { $0.hasPrefix("/") }
    }

    /// Whether `root:` is fed to `chpasswd` by an earlier stage of its pipeline
    /// (`feeders`: the first stage of each pipeline that writes a `root:` line).
    private static func rootPasswordFed(to command: ShellScript.Command, feeders: [Int: Int]) -> Bool {
        feeders[command.pipeline].map { $0 < command.stage } ?? false
    }

    /// Programs installed setuid or setgid root on common distributions: a copy
    /// that keeps their mode, or a write over one, makes a new way to root.
    static let setuidPrograms: Set<String> = [
        "su", "sudo", "sudoedit", "passwd", "chsh", "chfn", "newgrp", "gpasswd", "mount", "umount", "ping", "ping6",
        "pkexec", "fusermount", "fusermount3", "ssh-keysign", "unix_chkpwd", "chage", "expiry", "doas", "Xorg.wrap",
        "newuidmap", "newgidmap", "at", "crontab", "wall", "write", "dbus-daemon-launch-helper", "polkit-agent-helper-1",
    ]

    /// Why `command` sets a setuid or setgid bit, and how bad it is (a warning for setgid alone).
    private static func setuid(_ command: ShellScript.Command, state: DockerfileBuildState) -> (reason: String, severity: RiskSeverity)? {
        func made(_ reason: String, _ bits: String) -> (reason: String, severity: RiskSeverity) {
            (reason, bits == "setgid" ? .warning : .critical)
        }
        let arguments = command.arguments
        let program = command.program ?? ""
        switch program {
        case "chmod":
            for (index, word) in arguments.enumerated() {
                if let bits = setuidBits(word) {
                    return made("chmod \(word) makes \(bits) files: they run with their owner's rights", bits)
                }
                // `chmod --reference=/usr/bin/passwd /bin/bash` copies a mode, setuid bit included.
                var reference: String?
                if word.hasPrefix("--reference=") { reference = String(word.dropFirst(12)) }
                if word == "--reference", index + 1 < arguments.count { reference = arguments[index + 1] }
                if let reference {
                    let known = setuidPrograms.contains(ShellScript.basename(reference))
                    return (
                        "chmod --reference=\(reference) copies that file's mode, setuid and setgid bits included"
                            + (known ? " (\(ShellScript.basename(reference)) is setuid root)" : ": check what it is"),
                        known ? .critical : .warning
                    )
                }
            }
        case "install", "mkdir":
            for (index, word) in arguments.enumerated() {
                var mode: String?
                if word == "-m" || word == "--mode", index + 1 < arguments.count { mode = arguments[index + 1] }
                if word.hasPrefix("--mode=") { mode = String(word.dropFirst(7)) }
                if word.hasPrefix("-m"), word.count > 2 { mode = String(word.dropFirst(2)) }
                if let mode, let bits = setuidBits(mode) {
                    return made("\(program) -m \(mode) makes \(bits) files: they run with their owner's rights", bits)
                }
            }
        case "cp", "rsync":
            // `cp -a /usr/bin/su /opt/x` keeps the setuid bit of a program that has one.
            let keepsMode = arguments.contains { word in
                word == "--archive" || word.hasPrefix("--preserve") || word == "--perms"
                    || (word.hasPrefix("-") && !word.hasPrefix("--") && (word.contains("a") || word.contains("p")))
            }
            let sources = arguments.filter { !$0.hasPrefix("-") }.dropLast()
            if keepsMode, let source = sources.first(where: { setuidPrograms.contains(ShellScript.basename($0)) }) {
                return (
                    "\(program) copies \(source) keeping its mode: the copy is setuid root like the original", .critical)
            }
        default:
            break
        }
        // A write over a setuid program keeps its mode (root's writes do not clear the bit):
        // `cp /bin/bash /usr/bin/passwd` makes a setuid bash.
        for target in writtenPaths(command, state: state)
        where target.hasPrefix("/") && setuidPrograms.contains(ShellScript.basename(target))
            && ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/lib", "/usr/libexec/", "/lib"].contains(where: target.hasPrefix)
            && program != "chmod" && program != "chown"
        {
            return (
                "writes over \(target), a setuid-root program on most systems (\(program.isEmpty ? "a redirection" : program)): "
                    + "what is written keeps the bit and runs as root", .critical)
        }
        return nil
    }

    /// "setuid", "setgid" or "setuid and setgid" when `mode` (octal or
    /// symbolic, as `chmod` reads it) sets those bits; `nil` otherwise.
    static func setuidBits(_ mode: String) -> String? {
        var user = false, group = false
        // `=4755` and `+4000` set the bits as `4755` does (GNU chmod); `-4000` clears them.
        let octal = mode.first.map { "+=".contains($0) } == true ? mode.dropFirst() : Substring(mode)
        if !octal.isEmpty, octal.allSatisfy({ ("0"..."7").contains($0) }) {
            guard octal.count >= 4 || octal.count < mode.count, let value = Int(octal, radix: 8) else { return nil }
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
    /// `levels`: the shell texts already read for this Dockerfile.
    static func pipeToShell(_ script: ShellScript, levels: inout ShellScript.Levels) -> String? {
        let commands = script.commands
        func isFetch(_ command: ShellScript.Command) -> Bool {
            // `cat < /dev/tcp/x.example/80`: bash's network redirections.
            if command.words.contains(where: { $0.hasPrefix("/dev/tcp/") || $0.hasPrefix("/dev/udp/") }) { return true }
            guard let program = command.program else { return false }
            if ShellScript.fetchers.contains(program) { return true }
            if program == "openssl", command.arguments.contains("s_client") { return true }
            // `python3 -c "import urllib.request…"`, `perl -MLWP::Simple -e …`, `nc host 80`.
            let text = command.words.joined(separator: " ")
            return ShellScript.isInterpreter(program)
                && (text.mentions("urllib") || text.mentions("requests.get") || text.mentions("LWP::")
                    || text.mentions("http.client") || text.mentions("Net::HTTP") || text.mentions("fetch("))
        }
        // A word is asked about up to three times per command, and the commands of nested
        // `sh -c "x$(…)"` repeat the same words (one level of it doubles them): each word is read
        // once, and the scripts inside it once per text and depth (see `ShellScript.Levels`).
        var fetchWords: [ShellScript.ExactText: Bool] = [:]
        var fetchAnswers: [ShellScript.TextAtDepth: Bool] = [:]
        func mentionsFetch(_ word: String) -> Bool {
            let key = ShellScript.ExactText(text: word)
            if let known = fetchWords[key] { return known }
            let answer = word.mentions("$(") || word.mentions("<(")
                ? ShellScript.anyCommand(in: word, levels: &levels, answers: &fetchAnswers, where: isFetch)
                    || ShellScript.fetchers.contains { word.mentions("(\($0) ") || word.mentions("(\($0)") }
                    || word.mentions("/dev/tcp/") || word.mentions("/dev/udp/")
                : false
            fetchWords[key] = answer
            return answer
        }
        /// `>(sh)`: a process substitution that runs an interpreter on what is written to it.
        func feedsInterpreter(_ word: String) -> String? {
            guard word.hasPrefix(">("), word.hasSuffix(")") else { return nil }
            return ShellScript(String(word.dropFirst(2).dropLast())).commands.compactMap(\.program)
                .first(where: ShellScript.isInterpreter)
        }
        // 1. A fetch piped into an interpreter, however many stages apart. The first fetch
        // stage of each pipeline is found in one pass: a RUN of 100,000 `| sh` stays linear.
        var firstFetch: [Int: Int] = [:]
        for command in commands where firstFetch[command.pipeline] == nil && isFetch(command) {
            firstFetch[command.pipeline] = command.stage
        }
        var fetchOnDescriptor = false
        for command in commands {
            // `curl … > >(sh)`, `curl … | tee >(bash)`.
            if let fetch = firstFetch[command.pipeline], fetch <= command.stage,
                let interpreter = command.words.lazy.compactMap(feedsInterpreter).first
            {
                return "a download is written into \(interpreter) (>(…)) and run without being checked"
            }
            // `$(curl …)` as the program: what the download prints runs as a command.
            if let found = command.programWord, mentionsFetch(found.word) {
                return "a download's output runs as a command (\(found.word.prefix(60))) without being checked"
            }
            // `exec 3< <(curl …)` or `exec 3</dev/tcp/…`: a download opened on a descriptor.
            if ["exec", ""].contains(command.program ?? ""),
                command.words.contains(where: { mentionsFetch($0) || $0.hasPrefix("/dev/tcp/") || $0.hasPrefix("/dev/udp/") })
            {
                fetchOnDescriptor = true
                continue
            }
            guard let program = command.program, ShellScript.isInterpreter(program) else { continue }
            if fetchOnDescriptor,
                zip(command.words, command.words.dropFirst()).contains(where: { $0 == "<" && $1.allSatisfy(\.isNumber) })
                    || command.words.contains(where: { $0.hasPrefix("/dev/fd/") || $0.hasPrefix("/proc/self/fd/") })
            {
                return "\(program) runs a download opened on a file descriptor (exec N< <(…)) without it being checked"
            }
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
        var cloned: [String] = []
        var insideClone = false
        let verifiers: Set<String> = ["sha256sum", "sha512sum", "sha1sum", "md5sum", "shasum", "gpg", "gpgv", "cosign", "minisign", "signify"]
        for command in commands {
            if let program = command.program, verifiers.contains(program) {
                downloaded.removeAll()  // checked before it runs
                continue
            }
            // `git clone URL /r && sh /r/i.sh`: a clone is a download too (a checkout or a
            // verified tag of a fixed commit pins it).
            if command.program == "git" {
                let arguments = command.arguments
                let pinsCommit = arguments.contains { ["checkout", "reset", "switch"].contains($0) }
                    && arguments.contains { $0.count >= 12 && $0.allSatisfy(\.isHexDigit) }
                if pinsCommit || arguments.contains(where: { ["verify-commit", "verify-tag"].contains($0) }) {
                    cloned.removeAll()
                } else if let clone = arguments.firstIndex(of: "clone") {
                    let valued: Set<String> = ["-b", "--branch", "--depth", "-c", "--config", "-o", "--origin", "--reference", "-j", "--jobs", "--filter", "-u", "--upload-pack", "--separate-git-dir"]
                    var operands: [String] = []
                    var index = clone + 1
                    while index < arguments.count {
                        let word = arguments[index]
                        index += valued.contains(word) ? 2 : 1
                        if !word.hasPrefix("-") { operands.append(word) }
                    }
                    if let url = operands.first {
                        var name = operands.count > 1 ? operands[1] : ShellScript.basename(url.hasSuffix("/") ? String(url.dropLast()) : url)
                        if operands.count == 1, name.hasSuffix(".git") { name = String(name.dropLast(4)) }
                        if name.hasPrefix("./") { name = String(name.dropFirst(2)) }
                        if name.hasSuffix("/") { name = String(name.dropLast()) }
                        if !name.isEmpty { cloned.append(name) }
                    }
                }
                continue
            }
            if !cloned.isEmpty, let found = command.programWord {
                let program = ShellScript.basename(found.word)
                let paths = [found.word] + (ShellScript.isInterpreter(program) ? command.arguments.filter { !$0.hasPrefix("-") } : [])
                // `cd r && ./install.sh`: inside the clone, its relative paths are its files.
                if program == "cd", let target = command.arguments.first {
                    var plain = target.hasPrefix("./") ? String(target.dropFirst(2)) : target
                    if plain.hasSuffix("/") { plain = String(plain.dropLast()) }
                    insideClone = cloned.contains { $0 == plain || ShellScript.basename($0) == ShellScript.basename(plain) }
                    continue
                }
                for (position, path) in paths.enumerated() {
                    let plain = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
                    let relative = !path.hasPrefix("/") && !path.contains(" ") && (position > 0 || path.hasPrefix("./"))
                    if let directory = insideClone && relative ? "." : cloned.first(where: { plain.hasPrefix($0 + "/") }) {
                        return "a script from a clone (\(directory)) is run without the commit being pinned or checked: \(path)"
                    }
                }
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
            guard !downloaded.isEmpty, let found = command.programWord else { continue }
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
