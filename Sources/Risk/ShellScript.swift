import Foundation
import Queue

/// A `RUN` instruction's shell text read into simple commands, as far as
/// the Dockerfile risk rules need: what runs, with which words, which
/// redirections, and which commands feed which through a pipe.
///
/// Not a shell: no expansion beyond the variables the file itself assigns,
/// no functions, and loops and `if` read as the commands inside them (their
/// reserved words dropped: `then chmod …` runs `chmod`). It does what spelling games need undone — quotes
/// and escapes removed (`/etc/pass""wd`, `c\url`), line continuations
/// joined, `sh -c '…'`, `eval '…'`, `$(…)`, `` `…` ``, `<(…)` and `>(…)` read as commands of
/// their own, wrappers skipped (`sudo`, `env`, `busybox`, `exec`, `nice`,
/// `xargs`, `command`, `nohup`, `time`, `doas`, `chroot NEWROOT`, `gosu USER`), `( … )` subshells read in place — and
/// errs towards seeing a command where a shell might not.
struct ShellScript {
    /// One simple command.
    struct Command: Equatable {
        /// Its words, quotes removed; a redirection is its own word (`>`, `>>`, `<`).
        var words: [String] {
            didSet { programIndex = ShellScript.program(of: words)?.index }
        }
        /// The pipeline it is in, and its place there (0: first).
        var pipeline: Int
        var stage: Int
        /// Where ``programWord`` is in ``words``, found once per change of
        /// the words: every rule asks for the program, many times per command.
        private var programIndex: Int?

        init(words: [String], pipeline: Int, stage: Int) {
            self.words = words
            self.pipeline = pipeline
            self.stage = stage
            programIndex = ShellScript.program(of: words)?.index
        }

        /// The program word as written (`/usr/bin/curl`) and its index: ``ShellScript/program(of:)`` of ``words``.
        var programWord: (word: String, index: Int)? { programIndex.map { (words[$0], $0) } }

        /// The program that runs: the first word after assignments and wrappers, its basename.
        var program: String? { programIndex.map { ShellScript.basename(words[$0]) } }

        /// The words after the program.
        var arguments: [String] {
            guard let index = programIndex else { return [] }
            return Array(words[(index + 1)...])
        }
    }

    private(set) var commands: [Command] = []
    private var pipelineCount = 0

    init(_ text: String) {
        var levels: Levels = [:]
        self.init(text, levels: &levels)
    }

    /// Reads `text` with the levels already read for other texts of the same Dockerfile
    /// (the build state, the `RUN` rules and `pipe-to-shell`'s words read the same texts).
    init(_ text: String, levels: inout Levels) {
        read(text, depth: 0, levels: &levels)
    }

    /// Interpreters: given a script on standard input, as a file or with `-c`, they run it.
    static func isInterpreter(_ program: String) -> Bool {
        if interpreters.contains(program) { return true }
        for prefix in ["python", "pypy", "perl", "ruby", "php", "lua", "node"] where program.hasPrefix(prefix) {
            let rest = program.dropFirst(prefix.count)
            if rest.allSatisfy({ $0.isNumber || $0 == "." }) { return true }
        }
        return false
    }

    /// The interpreters ``isInterpreter(_:)`` knows by name (built once: it is asked for every command).
    private static let interpreters: Set<String> = [
        "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "rbash",
        "perl", "ruby", "node", "nodejs", "php", "lua", "tclsh", "pwsh", "deno", "bun", "source", ".", "eval",
        "su",
    ]

    /// Programs that download.
    static let fetchers: Set<String> = [
        "curl", "wget", "wget2", "fetch", "aria2c", "http", "https", "httpie", "lwp-download", "lwp-request", "GET",
        "axel", "lynx", "links", "w3m", "nc", "ncat", "netcat", "socat", "telnet",
    ]

    /// Wrappers that run the next word as the program (with their own options first).
    static let wrappers: Set<String> = [
        "sudo", "doas", "env", "exec", "command", "nice", "nohup", "time", "busybox", "toybox", "xargs", "stdbuf",
        "timeout", "setsid", "chroot", "runuser", "gosu", "su-exec", "setpriv", "unshare", "ionice", "builtin",
    ]

    /// Wrapper options that take a value (`sudo -u agent`, `env -u NAME`, `nice -n 5`).
    private static let valueOptions: Set<String> = ["-u", "-g", "-n", "-C", "-p", "-U", "-D", "-h", "-r", "-t", "-S"]

    /// Options that take a value for one wrapper only (`ionice -c 3`, `xargs -I {}`, `exec -a NAME`);
    /// elsewhere the same letter is a flag (`exec -c` clears the environment).
    private static let wrapperValueOptions: [String: Set<String>] = ["ionice": ["-c"], "xargs": ["-I", "-a", "-E", "-d", "-s", "-P", "-L", "-n"], "exec": ["-a"]]

    /// Wrappers whose first operand is not the program: `chroot NEWROOT cmd`, `gosu USER cmd`, `su-exec USER cmd`.
    private static let wrappersWithOperand: Set<String> = ["chroot", "gosu", "su-exec"]

    /// Reserved words that start a command (`then chmod …`, `do setcap …`, `! cmd`, `{ cmd; }`)
    /// and are dropped from its front; what follows them is the command that runs.
    static let leadingKeywords: Set<String> = [
        "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "esac", "{", "}", "!", "in",
    ]

    /// Reserved words whose whole command is a loop or case header, not something that runs:
    /// `for i in …`, `select x in …`, `case $x in` (their substitutions are read on their own).
    static let headerKeywords: Set<String> = ["for", "select", "case", "function"]

    /// `words` without the reserved words in front of the command (`then`, `do`, `{`, `!`, …);
    /// empty for a loop or case header.
    static func droppingKeywords(_ words: [String]) -> [String] {
        var rest = words[...]
        while let first = rest.first, leadingKeywords.contains(first) { rest = rest.dropFirst() }
        if let first = rest.first, headerKeywords.contains(first) { return [] }
        return Array(rest)
    }

    /// The program word and its index: assignments and wrappers skipped.
    static func program(of words: [String]) -> (word: String, index: Int)? {
        var index = 0
        var wrapper: String?
        while index < words.count {
            let word = words[index]
            if leadingKeywords.contains(word) { index += 1; continue }
            if isAssignment(word) { index += 1; continue }
            if let wrapper, word.hasPrefix("-") {
                let own = wrapperValueOptions[wrapper] ?? []
                let takesValue = own.contains(word) || (valueOptions.contains(word) && !["xargs", "exec"].contains(wrapper))
                index += takesValue ? 2 : 1
                continue
            }
            if wrapper != nil, word.allSatisfy(\.isNumber), index > 0,
                ["timeout", "nice", "ionice"].contains(basename(words[index - 1]))
            {
                index += 1
                continue
            }
            if wrappers.contains(basename(word)) {
                wrapper = basename(word)
                index += 1
                if wrappersWithOperand.contains(basename(word)) {
                    // Its options, then the operand (the new root, the user).
                    while index < words.count, words[index].hasPrefix("-") {
                        index += valueOptions.contains(words[index]) || words[index] == "--userspec" || words[index] == "--groups" ? 2 : 1
                    }
                    index += 1
                }
                continue
            }
            return (word, index)
        }
        return nil
    }

    static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return word[..<equals].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber } && !word.first!.isNumber
    }

    /// What follows the last `/` of `word` (all of it without one; "" after a trailing `/`).
    static func basename(_ word: String) -> String {
        guard let slash = word.lastIndex(of: "/") else { return word }
        return String(word[word.index(after: slash)...])
    }

    // MARK: - Reading

    /// How deep `sh -c`, `eval` and substitutions are followed.
    static let maximumDepth = 8

    /// What reading one text gives on its own, whatever the depth it is read at: its commands
    /// (reserved words in front dropped, pipelines numbered from 0, the program already found:
    /// a text read again costs a copy) and the texts it runs as scripts of their own
    /// (substitutions, `sh -c '…'`, `eval '…'`), in the order they are read.
    struct Level {
        var commands: [Command] = []
        var pipelineCount = 0
        var nested: [String] = []
    }

    /// ``Level``s already read, by text. A text is often read again: `sh -c "x$(R)"` runs both
    /// `x$(R)` and `R`, and `x$(R)` holds `R` once more, so one level of such nesting doubles the
    /// readings of what is inside it (2^8 at the depth limit). The commands are the same for every
    /// reading (the rules see them all, as before); the lexing is done once per text.
    typealias Levels = [ExactText: Level]

    /// A text as a dictionary key by its bytes. `String`'s own equality is canonical equivalence
    /// (`é` precomposed equals `e` + U+0301), and a level read from one spelling would put its bytes
    /// into the other's words (and into a hint's reason); comparing bytes also skips normalizing
    /// an agent's non-ASCII text for every hash.
    struct ExactText: Hashable {
        var text: String

        static func == (left: ExactText, right: ExactText) -> Bool {
            let same = left.text.utf8.withContiguousStorageIfAvailable { l in
                right.text.utf8.withContiguousStorageIfAvailable { r in
                    l.count == r.count && (l.isEmpty || memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0)
                }
            }
            return (same ?? nil) ?? left.text.utf8.elementsEqual(right.text.utf8)
        }

        func hash(into hasher: inout Hasher) {
            let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            if hashed == nil {
                for byte in text.utf8 { hasher.combine(byte) }
            }
            hasher.combine(text.utf8.count)
        }
    }

    private mutating func read(_ text: String, depth: Int, levels: inout Levels) {
        guard depth < Self.maximumDepth else { return }
        let level = Self.level(of: text, levels: &levels)
        for var command in level.commands {
            command.pipeline += pipelineCount
            commands.append(command)
        }
        pipelineCount += level.pipelineCount
        for script in level.nested { read(script, depth: depth + 1, levels: &levels) }
    }

    /// Whether a command of `ShellScript(text)` satisfies `predicate`, without building its
    /// command list: the commands of `text`'s own level, then of each nested text at the next depth,
    /// each (text, depth) answered once (`answers`). Same answer as
    /// `ShellScript(text).commands.contains(where: predicate)` for a predicate of a command's words alone.
    static func anyCommand(
        in text: String, depth: Int = 0, levels: inout Levels, answers: inout [TextAtDepth: Bool],
        where predicate: (Command) -> Bool
    ) -> Bool {
        guard depth < maximumDepth else { return false }
        let key = TextAtDepth(text: ExactText(text: text), depth: depth)
        if let known = answers[key] { return known }
        let level = level(of: text, levels: &levels)
        var found = level.commands.contains(where: predicate)
        if !found {
            found = level.nested.contains { anyCommand(in: $0, depth: depth + 1, levels: &levels, answers: &answers, where: predicate) }
        }
        answers[key] = found
        return found
    }

    /// A text read at a depth (``anyCommand(in:depth:levels:answers:where:)``'s memo key).
    struct TextAtDepth: Hashable {
        var text: ExactText
        var depth: Int
    }

    /// `text`'s ``Level``, from `levels` or read now.
    static func level(of text: String, levels: inout Levels) -> Level {
        let key = ExactText(text: text)
        if let known = levels[key] { return known }
        let level = readLevel(text)
        levels[key] = level
        return level
    }

    /// Reads one text's own pipelines and the scripts it runs (not those scripts themselves).
    private static func readLevel(_ text: String) -> Level {
        var level = Level()
        var lexer = Lexer(text: Array(text))
        var pipeline: [[String]] = [[]]
        var nested: [String] = []
        func finishPipeline() {
            let segments = pipeline.map(ShellScript.droppingKeywords).filter { !$0.isEmpty }
            if !segments.isEmpty {
                for (stage, words) in segments.enumerated() {
                    level.commands.append(Command(words: words, pipeline: level.pipelineCount, stage: stage))
                }
                level.pipelineCount += 1
            }
            pipeline = [[]]
        }
        while let token = lexer.next(substitutions: &nested) {
            switch token {
            case .word(let word): pipeline[pipeline.count - 1].append(word)
            case .pipe: pipeline.append([])
            case .separator: finishPipeline()
            case .subshell:
                // `curl … | (sh)`: a subshell where a command starts runs in the pipeline's place.
                if !(pipeline.last ?? []).isEmpty { finishPipeline() }
            }
        }
        finishPipeline()
        // What `sh -c '…'` and `eval '…'` run is a script of their own (each text once:
        // a set, so 100,000 `eval x` stay linear).
        var seen = Set(nested)
        for command in level.commands {
            guard let program = command.program, isInterpreter(program) || program == "su" else { continue }
            let arguments = command.arguments
            if program == "eval" {
                let script = arguments.joined(separator: " ")
                if seen.insert(script).inserted { nested.append(script) }
                continue
            }
            if let c = arguments.firstIndex(where: { $0 == "-c" || ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.hasSuffix("c")) }),
                c + 1 < arguments.count, seen.insert(arguments[c + 1]).inserted
            {
                nested.append(arguments[c + 1])
            }
        }
        level.nested = nested
        return level
    }

    private enum Token {
        case word(String)
        case pipe
        case separator
        /// `(`: a subshell when a command starts, a separator elsewhere.
        case subshell
    }

    /// Splits shell text into words and operators, quotes removed.
    private struct Lexer {
        let text: [Character]
        var index = 0

        mutating func next(substitutions: inout [String]) -> Token? {
            // Blanks, comments and line continuations.
            while index < text.count {
                let c = text[index]
                if c == " " || c == "\t" || c == "\r" {
                    index += 1
                } else if c == "\\", index + 1 < text.count, text[index + 1] == "\n" || text[index + 1] == "\r\n" {
                    index += 2
                } else if c == "#" {
                    while index < text.count, text[index] != "\n" { index += 1 }
                } else {
                    break
                }
            }
            guard index < text.count else { return nil }
            let c = text[index]
            switch c {
            case "\n", "\r\n", ";", ")":
                index += 1
                return .separator
            case "(":
                index += 1
                return .subshell
            case "&":
                index += 1
                if index < text.count, text[index] == "&" { index += 1 }
                if index < text.count, text[index] == ">" { return redirect() }
                return .separator
            case "|":
                index += 1
                if index < text.count, text[index] == "|" {
                    index += 1
                    return .separator
                }
                if index < text.count, text[index] == "&" { index += 1 }
                return .pipe
            case ">", "<":
                if index + 1 < text.count, text[index + 1] == "(" {
                    return .word(processSubstitution(&substitutions))
                }
                return redirect()
            default:
                return .word(word(&substitutions))
            }
        }

        private mutating func redirect() -> Token {
            var op = ""
            while index < text.count, ">|<&".contains(text[index]) {
                if text[index] == "<", index + 1 < text.count, text[index + 1] == "(" { break }
                op.append(text[index])
                index += 1
            }
            // `>>`, `>`, `<`, `<<<` and `&>` are told apart by their first character.
            return .word(op.contains(">") ? (op.contains(">>") ? ">>" : ">") : "<")
        }

        private mutating func processSubstitution(_ substitutions: inout [String]) -> String {
            let open = text[index]
            index += 2
            let inner = balanced()
            substitutions.append(inner)
            return "\(open)(\(inner))"
        }

        /// The text up to the `)` that closes the one just read.
        private mutating func balanced() -> String {
            var depth = 1
            var inner = ""
            var quote: Character?
            while index < text.count {
                let c = text[index]
                index += 1
                if let open = quote {
                    if c == open { quote = nil }
                } else if c == "'" || c == "\"" {
                    quote = c
                } else if c == "(" {
                    depth += 1
                } else if c == ")" {
                    depth -= 1
                    if depth == 0 { break }
                }
                inner.append(c)
            }
            return inner
        }

        private mutating func word(_ substitutions: inout [String]) -> String {
            var word = ""
            var quote: Character?
            // A word made of digits before `>` is a file descriptor of the redirection.
            while index < text.count {
                let c = text[index]
                if quote == nil {
                    if " \t\n\r;&|()".contains(c) || c == "\r\n" { break }
                    if c == ">" || c == "<" {
                        if word.allSatisfy(\.isNumber) && !word.isEmpty { word = "" }
                        break
                    }
                }
                index += 1
                if c == "\\", quote != "'" {
                    if index < text.count {
                        if text[index] == "\n" || text[index] == "\r\n" { index += 1; continue }
                        word.append(text[index])
                        index += 1
                    }
                    continue
                }
                if let open = quote {
                    if c == open {
                        quote = nil
                        continue
                    }
                    if open == "\"", c == "$", index < text.count, text[index] == "(" {
                        index += 1
                        let inner = balanced()
                        substitutions.append(inner)
                        word += "$(\(inner))"
                        continue
                    }
                    if open == "\"", c == "`" {
                        word += "$(\(backquoted(&substitutions)))"
                        continue
                    }
                    word.append(c)
                    continue
                }
                switch c {
                case "'", "\"": quote = c
                case "$" where index < text.count && text[index] == "(":
                    index += 1
                    let inner = balanced()
                    substitutions.append(inner)
                    word += "$(\(inner))"
                case "`": word += "$(\(backquoted(&substitutions)))"
                default: word.append(c)
                }
            }
            return word
        }

        private mutating func backquoted(_ substitutions: inout [String]) -> String {
            var inner = ""
            while index < text.count, text[index] != "`" {
                inner.append(text[index])
                index += 1
            }
            index += 1
            substitutions.append(inner)
            return inner
        }
    }
}
