import FileAccess
import Foundation
import Queue
import SystemPackage

/// Helpers for the apply step's end-to-end tests: real processes, real files.
enum ApplyFixtures {
    /// `Tests/EndToEndTests/fixtures/`.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "fixtures"
    ).path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The `bottle-supervise` binary: `$BOTTLE_SUPERVISE_BIN`, else the one built beside the tests.
    static var binary: String { BuiltBinary.path }

    /// Runs a program to completion; returns its exit status, standard output and error.
    ///
    /// Spawned directly (not with Foundation's `Process`, whose exit detection
    /// hangs inside the test runner and which passes on the runner's blocked
    /// signals), with a clean signal mask and default dispositions.
    @discardableResult
    static func run(_ argv: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) throws
        -> (status: Int32, out: String, err: String)
    {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid = try spawn(argv, environment: environment, stdout: outPipe[1], stderr: errPipe[1])
        close(outPipe[1])
        close(errPipe[1])
        var out = Data()
        var err = Data()
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while !open.isEmpty, ContinuousClock.now < deadline {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 100) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == outPipe[0] {
                        out.append(contentsOf: buffer[0..<count])
                    } else {
                        err.append(contentsOf: buffer[0..<count])
                    }
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if !open.isEmpty { kill(pid, SIGKILL) }
        close(outPipe[0])
        close(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Runs the built `bottle-supervise` as an operator would, over the given
    /// queue and config roots, without colour.
    static func operatorCommand(
        _ arguments: [String], queueRoot: String, configRoot: String, timeout: Duration = .seconds(120)
    ) throws -> (status: Int32, out: String, err: String) {
        try run(
            [BuiltBinary.path] + arguments,
            environment: ["SUPERVISE_QUEUE_ROOT": queueRoot, "SUPERVISE_CONFIG_ROOT": configRoot, "NO_COLOR": "1"],
            timeout: timeout)
    }

    /// Starts `argv` (found through `PATH`) with a clean signal state; returns its pid.
    static func spawn(_ argv: [String], environment: [String: String] = [:], stdout: Int32? = nil, stderr: Int32? = nil)
        throws -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        // Nothing else: a pipe another thread of the test opened a moment ago for another child (psql's
        // standard input, say) and has not marked close-on-exec yet would otherwise stay open in this
        // one, and that child would wait for an end of input that comes only when this one exits.
        // (glibc 2.34+; Swift's Glibc module does not declare it, so it is looked up.)
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let env: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer {
            env.forEach { free($0) }
            args.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, argv[0], &actions, &attributes, args, env)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ENOENT) }
        return pid
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }
}

/// A host with one bottle whose "cred-proxy" is the reloadable fixture process.
final class ReloadableBottle: @unchecked Sendable {
    let root: String
    let queueRoot: FilePath
    let configRoot: FilePath
    let bottle: BottleSlug
    let routesPath: String
    let loadedPath: String
    let pidPath: String
    let argvLog: String
    private let proxy: pid_t

    init(slug: String = "fixture-bottle", routes: String) async throws {
        root = NSTemporaryDirectory() + "apply-e2e-\(UUID().uuidString.prefix(8))"
        queueRoot = FilePath(root + "/queue")
        configRoot = FilePath(root + "/bottles")
        bottle = try BottleSlug(slug)
        try FileManager.default.createDirectory(
            atPath: configRoot.string + "/" + slug, withIntermediateDirectories: true)
        routesPath = configRoot.string + "/\(slug)/routes.json"
        loadedPath = root + "/loaded.json"
        pidPath = root + "/proxy.pid"
        argvLog = root + "/argv.jsonl"
        try AtomicFile.write(Data(routes.utf8), to: FilePath(routesPath))
        try QueueRoot(queueRoot).queue(for: bottle).prepare()
        proxy = try ApplyFixtures.spawn([ApplyFixtures.path("reloadable_proxy.py"), routesPath, loadedPath, pidPath])
        let pidPath = self.pidPath
        guard await ApplyFixtures.eventually({ FileManager.default.fileExists(atPath: pidPath) }) else {
            throw CocoaError(.fileNoSuchFile)
        }
    }

    deinit {
        kill(proxy, SIGKILL)
        var status: Int32 = 0
        waitpid(proxy, &status, 0)
        try? FileManager.default.removeItem(atPath: root)
    }

    var queue: BottleQueue { QueueRoot(queueRoot).queue(for: bottle) }

    /// The reload action: the SIGHUP wrapper with fixed arguments, plus the two substitutions.
    var hupSettings: String {
        """
        [reload.routes]
        command = ["\(ApplyFixtures.path("send_hup.py"))", "\(pidPath)", "\(loadedPath)", "\(argvLog)", "{slug}", "{file}"]
        timeout = 10
        """
    }

    var failingSettings: String {
        """
        [reload.routes]
        command = ["\(ApplyFixtures.path("failing_reload.py"))", "\(argvLog)", "{slug}", "{file}"]
        """
    }

    func configure(_ settings: String) throws {
        try AtomicFile.write(Data(settings.utf8), to: FilePath(configRoot.string + "/\(bottle)/supervise.toml"))
    }

    /// What the fixture process has loaded now.
    func loaded() throws -> (generation: Int, routes: String, error: String?) {
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: loadedPath))) as! [String: Any]
        let routes = try JSONSerialization.data(withJSONObject: object["routes"] ?? NSNull(), options: [.sortedKeys])
        return (object["generation"] as! Int, String(decoding: routes, as: UTF8.self), object["error"] as? String)
    }

    /// `text` as the fixture would report it after loading it.
    static func canonical(_ text: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Every argv the reload wrappers were started with.
    func recordedArgv() throws -> [[String]] {
        guard let text = try? String(contentsOfFile: argvLog, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["argv"] as! [String]
        }
    }

    /// Submits a proposal made against the current routes.
    func propose(_ routes: String, justification: String = "need the second API") async throws -> Proposal {
        let current = try AtomicFile.read(FilePath(routesPath)).map { SHA256Hex.of($0) }
        let proposal = Proposal(
            bottle: bottle, tool: .credProxyBlock, proposedFile: routes, justification: justification,
            currentFileSHA256: current)
        _ = try await queue.submit(proposal)
        return proposal
    }

    /// Runs the `bottle-supervise` binary against this host.
    func cli(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try ApplyFixtures.run(
            [ApplyFixtures.binary] + arguments + ["--queue-root", queueRoot.string, "--config-root", configRoot.string])
    }
}

/// The digest a decision on `proposal` is bound to when the operator reviewed
/// the file the sidecar wrote (which is exactly the encoded proposal).
func reviewedSHA256(_ proposal: Proposal) -> String? {
    (try? QueueFormat.encode(proposal)).map { SHA256Hex.of($0) }
}
