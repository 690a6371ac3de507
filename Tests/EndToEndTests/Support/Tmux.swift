import Foundation

/// A terminal a person would use, for driving the console: a detached tmux
/// session of a fixed size, typed into with `send-keys` and read with
/// `capture-pane`.
final class Tmux {
    let name: String

    static var isInstalled: Bool {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Starts a shell in a new session with `environment` exported.
    init(columns: Int = 120, rows: Int = 40, environment: [String: String] = [:]) throws {
        name = "bs-\(UUID().uuidString.prefix(8))"
        try Tmux.run([
            "new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", "-s", name,
            "env PS1='$ ' bash --norc --noprofile",
        ])
        for (key, value) in environment {
            try type("export \(key)='\(value)'", enter: true)
        }
        try type("clear", enter: true)
    }

    deinit { _ = try? Tmux.run(["kill-session", "-t", name]) }

    /// Types `text` literally, then Enter if asked.
    func type(_ text: String, enter: Bool = false) throws {
        try Tmux.run(["send-keys", "-t", name, "-l", text])
        if enter { try Tmux.run(["send-keys", "-t", name, "Enter"]) }
    }

    /// Presses named keys (`Enter`, `Escape`, `Down`, `C-c`).
    func press(_ keys: String...) throws {
        try Tmux.run(["send-keys", "-t", name] + keys)
    }

    /// The screen's text now.
    func screen() throws -> String {
        try Tmux.run(["capture-pane", "-p", "-t", name])
    }

    /// Waits until the screen contains `text` (up to `timeout`); returns the screen.
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try screen()
            if last.contains(text) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TmuxError.timedOut(waitingFor: text, screen: last)
    }

    /// Runs one tmux command and returns what it printed.
    ///
    /// Spawned and reaped here rather than with Foundation's `Process`:
    /// `tmux new-session -d` forks its server and exits, and after many
    /// other processes had come and gone in the test run, `Process` at
    /// times never noticed that exit (`waitUntilExit` hung on a zombie).
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = (["tmux"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, "tmux", &actions, nil, argv, environ)
        guard spawned == 0 else { throw TmuxError.failed(arguments, "cannot start tmux: errno \(spawned)") }
        var status: Int32 = 0
        var waited = waitpid(pid, &status, 0)
        while waited < 0, errno == EINTR { waited = waitpid(pid, &status, 0) }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // ECHILD: reaped by someone else; its output decides.
        let exitStatus = waited < 0 ? 0 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitStatus == 0 else { throw TmuxError.failed(arguments, text) }
        return text
    }
}

enum TmuxError: Error, CustomStringConvertible {
    case failed([String], String)
    case timedOut(waitingFor: String, screen: String)

    var description: String {
        switch self {
        case .failed(let arguments, let output): "tmux \(arguments.joined(separator: " ")) failed: \(output)"
        case .timedOut(let text, let screen): "timed out waiting for \"\(text)\"; the screen was:\n\(screen)"
        }
    }
}
