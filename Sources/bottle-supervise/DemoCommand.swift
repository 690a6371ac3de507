import Apply
import ArgumentParser
import Console
import FileAccess
import Foundation
import Queue
import Sidecar
import SidecarCommandLine
import SystemPackage

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `bottle-supervise demo`: the whole loop on this machine, no container needed.
///
/// A newcomer's first command. It makes a state directory with one bottle
/// (`demo-bottle`) and its current config, starts the real sidecar on
/// loopback as a child process, plays an agent that is stuck on pipelock
/// and calls `pipelock-block` over real MCP HTTP, and opens the console so
/// the newcomer decides. Then it prints what the agent received.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole loop here: a sidecar, an agent asking for a change, and you deciding.",
        discussion: """
            Nothing outside the state directory is touched. Reload actions are harmless `echo`s, so an \
            approval shows the apply step without containers. Without a terminal (or with --no-tui) the \
            decision is read from standard input: a(pprove) or r(eject).
            """
    )

    @Option(
        help: """
            Where to keep the demo's queue root and config root, to look around afterwards (default: a new \
            temporary directory, removed at the end).
            """)
    var stateDir: String?

    @Flag(help: "Decide at a prompt instead of in the console.")
    var noTUI = false

    func validate() throws {
        if let stateDir { try Self.requireUsableStateDirectory(stateDir) }
    }

    func run() async throws {
        let state = try stateDir ?? Self.makeTemporaryDirectory()
        // A temporary state is removed when the demo ends, unless a pending proposal is left in it.
        var keepState = stateDir != nil
        defer { if !keepState { try? FileManager.default.removeItem(atPath: state) } }
        let queueRoot = FilePath(state).appending("queue")
        let configRoot = FilePath(state).appending("bottles")
        let bottle = try BottleSlug("demo-bottle")
        try DemoBottle.write(to: configRoot.appending(bottle.rawValue))

        print("Bottle Supervise demo — state in \(state)")
        // The host makes a bottle's queue directory; the sidecar only works in it.
        try QueueRoot(queueRoot).queue(for: bottle).prepare()
        let sidecar = try DemoSidecar.start(
            bottle: bottle, queueDirectory: queueRoot.appending(bottle.rawValue),
            currentConfig: configRoot.appending(bottle.rawValue))
        defer { sidecar.stop() }
        print(
            """

            The sidecar for \(bottle) listens on \(sidecar.url).
            Point a real agent at it with:
                claude mcp add --transport http supervise \(sidecar.url)

            Playing the agent: pipelock refused pypi.org, so it calls pipelock-block with the allowlist it needs.
            """)
        let agent = Task { try await DemoAgent.askForPyPI(at: sidecar.url) }

        // Wait for the proposal to reach the queue before handing over to the operator.
        let queue = QueueRoot(queueRoot).queue(for: bottle)
        var waited = 0
        while (try? queue.pending().isEmpty) ?? true {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
            if waited > 200 {
                throw Failure.failed("the agent's proposal did not reach the queue within 10 s; is the sidecar running?")
            }
        }

        if !noTUI, isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 {
            print("\nOpening the console: Enter to review, a to approve, r to reject, q to quit when done.")
            try await Task.sleep(for: .seconds(2))
            try await ConsoleApp(queueRoot: queueRoot, configRoot: configRoot, bell: false).run()
        } else {
            try await Self.decideAtPrompt(queue: queue, queueRoot: queueRoot, configRoot: configRoot)
        }

        guard (try? queue.pending().isEmpty) == true else {
            // The sidecar is the demo's child and stops with it: nobody is left waiting.
            keepState = true
            let command = DemoCommandLine.program
            print(
                """

                Nothing was decided: the proposal stays pending in \(queueRoot). The demo stops its sidecar \
                now, so the agent's call ends unanswered. You can still review and decide the proposal with:
                    \(command) console --queue-root \(DemoCommandLine.quoted(queueRoot.string)) --config-root \(DemoCommandLine.quoted(configRoot.string))
                and remove the demo's state afterwards with:
                    rm -r \(DemoCommandLine.quoted(state))
                """)
            agent.cancel()
            return
        }
        let answer = try await agent.value
        print("\nThe agent received:\n\(answer)")
        print(
            "\nThe bottle's allowlist is now:\n\(String(decoding: (try? AtomicFile.read(configRoot.appending(bottle.rawValue).appending("allowlist"))).flatMap { $0 } ?? Data(), as: UTF8.self))"
        )
        print(DemoCommandLine.closingLines(state: stateDir.map { _ in state }, queueRoot: queueRoot, configRoot: configRoot))
    }

    /// A --state-dir that can be used: an existing directory, or a new one whose parent exists.
    static func requireUsableStateDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw ValidationError("--state-dir \(Escaped(path)) is not a directory")
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        guard stat(parent.isEmpty ? "." : parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError(
                "--state-dir \(Escaped(path)): its parent directory \(Escaped(parent)) does not exist; give a directory "
                    + "that exists or one to create in an existing directory")
        }
    }

    static func decideAtPrompt(queue: BottleQueue, queueRoot: FilePath, configRoot: FilePath) async throws {
        guard let pending = try queue.pending().first else { return }
        // Read once: what is shown is what the decision is bound to.
        let entry = try queue.entry(pending.id)
        let proposal = entry.proposal
        let current = try ConfigRoot(configRoot).current(proposal.tool.configFile, for: proposal.bottle)
        print("\n" + Show.render(entry, currentFile: current, configRoot: configRoot, color: useColor()))
        let applier = Applier(configRoot: configRoot, queueRoot: queueRoot)
        while true {
            print("\napprove or reject? [a/r] ", terminator: "")
            guard let line = readLine() else {
                print("\n(end of input)")
                return
            }
            switch DemoAnswer(line) {
            case .approve:
                let decision = try await applier.apply(
                    decision: ProposalLookup.decision(on: entry, .approved, notes: "approved in the demo"),
                    proposal: proposal, queue: queue)
                ProposalLookup.report(decision, of: proposal)
                return
            case .reject:
                let decision = ProposalLookup.decision(on: entry, .rejected, notes: "rejected in the demo")
                try applier.record(decision, of: proposal, queue: queue)
                ProposalLookup.report(decision, of: proposal)
                return
            case nil:
                // One typo must not end the demo: ask again.
                print("\(Escaped(line.trimmingCharacters(in: .whitespaces))) is not an answer: type a to approve or r to reject")
            }
        }
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "bottle-supervise-demo-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Failure.failed("cannot create a temporary directory in \(NSTemporaryDirectory())")
        }
        return String(cString: made)
    }
}

/// An answer at the demo's prompt: `a`/`approve` or `r`/`reject`, any case.
enum DemoAnswer {
    case approve
    case reject

    init?(_ line: String) {
        switch line.trimmingCharacters(in: .whitespaces).lowercased() {
        case "a", "approve": self = .approve
        case "r", "reject": self = .reject
        default: return nil
        }
    }
}

/// The commands the demo's closing lines print, spelled so that they work as printed: the program
/// as `bottle-supervise` when that is on the PATH, else this binary's own path; paths quoted for a shell.
enum DemoCommandLine {
    /// `bottle-supervise`, or the absolute path of the running binary when the PATH has none.
    static var program: String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            if FileManager.default.isExecutableFile(atPath: "\(directory)/bottle-supervise") { return "bottle-supervise" }
        }
        let this = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return quoted(this)
    }

    /// Whether `program` had to fall back to this binary's path.
    static var isOnPath: Bool { program == "bottle-supervise" }

    /// `text` as one shell word: unchanged when it is only letters, digits and `/._-+:@%=,`, else in single quotes.
    static func quoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || "/._-+:@%=,".unicodeScalars.contains($0)
        }
        if plain, !text.isEmpty { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// What to run next. `state` is nil for a temporary state, which the demo removes as it ends.
    static func closingLines(state: String?, queueRoot: FilePath, configRoot: FilePath) -> String {
        let command = program
        var lines: [String] = []
        if let state {
            let roots = "--queue-root \(quoted(queueRoot.string)) --config-root \(quoted(configRoot.string))"
            lines += [
                "The demo's state stays in \(state). Look around with:",
                "    \(command) list --all \(roots)",
                "    \(command) log \(roots)",
            ]
        } else {
            lines += [
                "The demo's temporary state is removed now. To keep it and look around afterwards:",
                "    \(command) demo --state-dir ~/bottle-supervise-demo",
                "    \(command) log --queue-root ~/bottle-supervise-demo/queue --config-root ~/bottle-supervise-demo/bottles",
            ]
        }
        if !isOnPath {
            lines.append("(bottle-supervise is not on your PATH; scripts/install puts it there, see the README)")
        }
        return lines.joined(separator: "\n")
    }
}

/// The demo bottle's current config: what an agent in it would see read-only.
enum DemoBottle {
    static func write(to directory: FilePath) throws {
        try AtomicFile.makeDirectory(directory)
        let files: [(String, String)] = [
            (
                "routes.json",
                #"{"routes": [{"path": "/github/", "upstream": "https://api.github.com/", "credential": "github-token"}]}"#
                    + "\n"
            ),
            (
                "allowlist",
                "# egress the demo bottle may reach\napi.github.com\ngithub.com\nobjects.githubusercontent.com\n"
            ),
            (
                "Dockerfile",
                "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends git python3\nUSER agent\n"
            ),
            (
                "supervise.toml",
                """
                # The demo has no containers: each reload action just says what it would do.
                [reload.routes]
                command = ["echo", "would send SIGHUP to {slug}-cred-proxy to reload {file}"]
                [reload.allowlist]
                command = ["echo", "would restart {slug}-pipelock with {file}"]
                [reload.dockerfile]
                command = ["echo", "would build a new image from {file} and replace the {slug} container with one from it"]

                """
            ),
        ]
        for (name, content) in files {
            try AtomicFile.write(Data(content.utf8), to: directory.appending(name))
        }
    }
}

/// The sidecar as a child process of the demo.
final class DemoSidecar: @unchecked Sendable {
    // @unchecked: set once at start, then only read.
    let process: Process
    let url: String

    private init(process: Process, url: String) {
        self.process = process
        self.url = url
    }

    static func start(bottle: BottleSlug, queueDirectory: FilePath, currentConfig: FilePath) throws -> DemoSidecar {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = [
            "serve", "--slug", bottle.rawValue, "--queue-dir", queueDirectory.string, "--current-config",
            currentConfig.string, "--port", "0", "--bind", "127.0.0.1",
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The sidecar prints its address on stderr once it listens.
        var buffer = Data()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: "bottle-supervise: listening on "),
                let end = text[range.upperBound...].firstIndex(of: "\n")
            {
                let url = String(text[range.upperBound..<end])
                // Keep draining its log so it never blocks on a full pipe.
                errors.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
                return DemoSidecar(process: process, url: url)
            }
        }
        process.terminate()
        throw Failure.failed("the sidecar did not start:\n\(String(decoding: buffer, as: UTF8.self))")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// The simulated agent: plain MCP over HTTP, as any client would speak it (``MCPHostClient``, as `ask`).
enum DemoAgent {
    /// Initializes a session and calls `pipelock-block`, waiting through `pending` answers with
    /// `proposal-status` as the tool descriptions ask; returns the tool result's text and structured content.
    static func askForPyPI(at url: String) async throws -> String {
        do throws(MCPHostClient.Problem) {
            var client = try MCPHostClient(url: url)
            try await client.connect(clientName: "demo-agent")
            let allowlist =
                "# egress the demo bottle may reach\napi.github.com\ngithub.com\nobjects.githubusercontent.com\npypi.org\nfiles.pythonhosted.org\n"
            let justification =
                "pip install -r requirements.txt fails: pipelock refused pypi.org and files.pythonhosted.org (the package index and its file host). The tests cannot run without them."
            var result = try await client.callTool(
                Tool.pipelockBlock.rawValue, arguments: [("allowlist", allowlist), ("justification", justification)])
            while result.status == "pending", let id = result.proposalID {
                result = try await client.callTool(ProposalStatusTool.name, arguments: [("proposal_id", id)])
            }
            return result.text + (result.structured.map { "\n\nstructuredContent:\n\($0)" } ?? "")
        } catch {
            throw Failure.failed("the demo's agent: \(error.description)")
        }
    }
}
