import Queue

/// How the account tools (`useradd`, `adduser`, `usermod`, `groupadd`,
/// `addgroup`, `gpasswd`, `passwd`) can make a user root: uid
/// 0 (`-u 0`, `-u0`, `--uid=0`, `-ou 00`), a shared uid (`-o`,
/// `--non-unique`), the root group as primary group, or a group that is
/// root in all but name (`sudo`, `wheel`, `admin`, `docker`, `disk`,
/// `shadow`, `lxd`), and root's own password.
enum AccountCommands {
    /// Groups whose members can become root (or read what root reads).
    static let privilegedGroups: Set<String> = ["root", "0", "sudo", "wheel", "admin", "docker", "disk", "shadow", "lxd"]

    /// Whether `text` is a number a uid parser reads as 0 (`0`, `00`, `+0`, `-0`).
    static func isZero(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0 == "0" }
    }

    /// One account tool invocation, options read getopt-style.
    private struct Invocation {
        var program: String
        /// Option letter or long name → values (a flag gets "").
        var options: [String: [String]] = [:]
        var operands: [String] = []

        func values(_ names: String...) -> [String] { names.flatMap { options[$0] ?? [] } }
        func has(_ names: String...) -> Bool { names.contains { options[$0] != nil } }
    }

    /// Short options that take a value, per tool.
    private static let valueLetters: [String: Set<Character>] = [
        "useradd": ["b", "c", "d", "e", "f", "g", "G", "k", "K", "p", "R", "P", "s", "u", "Z"],
        "usermod": ["c", "d", "e", "f", "g", "G", "l", "p", "R", "P", "s", "u", "Z", "v", "V", "w", "W"],
        "adduser": ["h", "g", "s", "G", "u", "k"],
        "groupadd": ["g", "K", "p", "R", "P", "U"],
        "addgroup": ["g"],
        "groupmod": ["g", "n", "p", "R", "P", "U"],
        "gpasswd": ["a", "d", "M", "A", "Q", "R"],
        "passwd": ["n", "x", "w", "i", "r", "R", "P"],
    ]

    private static func invocation(_ command: ShellScript.Command) -> Invocation? {
        guard let program = command.program, valueLetters[program] != nil else { return nil }
        var result = Invocation(program: program)
        let words = command.arguments
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                result.operands += words[index...]
                break
            }
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    result.options[String(body[..<equals]), default: []].append(String(body[body.index(after: equals)...]))
                } else {
                    let name = String(body)
                    let takesValue = [
                        "uid", "gid", "groups", "home", "home-dir", "shell", "comment", "gecos", "ingroup", "key",
                        "password", "root", "prefix", "expiredate", "inactive", "skel", "add", "delete", "login",
                        "firstuid", "lastuid",
                    ].contains(name)
                    if takesValue, index < words.count {
                        result.options[name, default: []].append(words[index])
                        index += 1
                    } else {
                        result.options[name, default: []].append("")
                    }
                }
                continue
            }
            if word.hasPrefix("-"), word.count > 1 {
                var letters = word.dropFirst()
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    if lettersTakingValue(program).contains(letter) {
                        var value = String(letters)
                        if value.isEmpty, index < words.count {
                            value = words[index]
                            index += 1
                        }
                        result.options[String(letter), default: []].append(value)
                        break
                    }
                    result.options[String(letter), default: []].append("")
                }
                continue
            }
            result.operands.append(word)
        }
        return result
    }

    private static func lettersTakingValue(_ program: String) -> Set<Character> { valueLetters[program] ?? [] }

    /// The user name a command makes uid 0 (`useradd -o -u 0 toor`), if it does.
    static func userMadeRoot(_ command: ShellScript.Command) -> String? {
        guard let call = invocation(command), ["useradd", "adduser", "usermod"].contains(call.program),
            call.values("u", "uid").contains(where: isZero)
        else { return nil }
        return call.operands.first
    }

    /// Why `command` gives a user root's powers; `nil` when it does not.
    static func rootGrant(_ command: ShellScript.Command) -> String? {
        guard let call = invocation(command) else { return nil }
        switch call.program {
        case "useradd", "adduser", "usermod":
            if call.values("u", "uid").contains(where: isZero) {
                return "\(call.program) gives a user uid 0: that user is root"
            }
            if call.has("o", "non-unique") {
                return "\(call.program) -o lets a user share another's uid (root's, with -u 0)"
            }
            let primary = call.program == "adduser" ? call.values("G", "gid", "ingroup") : call.values("g", "gid")
            if let group = primary.first(where: { isZero($0) || $0 == "root" }) {
                return "\(call.program) makes group \(group) (root's) a user's primary group"
            }
            let groups = call.values("G", "groups").flatMap { $0.split(separator: ",").map(String.init) }
            if let group = groups.first(where: privilegedGroups.contains) {
                return "\(call.program) adds a user to group \(group), whose members can become root"
            }
            // Debian's `adduser USER GROUP` adds an existing user to a group.
            if call.program == "adduser", call.operands.count == 2, privilegedGroups.contains(call.operands[1]) {
                return "adduser adds \(call.operands[0]) to group \(call.operands[1]), whose members can become root"
            }
        case "addgroup":
            if call.operands.count == 2, privilegedGroups.contains(call.operands[1]) {
                return "addgroup adds \(call.operands[0]) to group \(call.operands[1]), whose members can become root"
            }
            if call.values("g", "gid").contains(where: isZero) { return "addgroup creates a group with gid 0 (root's)" }
        case "groupadd", "groupmod":
            if call.values("g", "gid").contains(where: isZero) {
                return "\(call.program) gives a group gid 0: its members are in root's group"
            }
        case "gpasswd":
            if let group = call.operands.first(where: privilegedGroups.contains), call.has("a", "add", "M") {
                return "gpasswd adds a user to group \(group), whose members can become root"
            }
        case "passwd":
            if call.operands.contains("root") || call.operands.isEmpty {
                return "passwd changes root's password (or removes it with -d)"
            }
        default:
            break
        }
        return nil
    }
}
