import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for one test: its own data directory (a copy of
/// a template made by `initdb` once per test process), a free loopback port,
/// its own socket directory. Stopped, killed or restarted by the test;
/// whatever is left is killed and removed when the process exits.
///
/// Authentication: `trust` on the Unix socket (``psql(_:database:)``, for
/// assertions and set-up), `scram-sha-256` over TCP, so a client under test
/// proves its password. The superuser is `postgres` with
/// ``superuserPassword``.
///
/// Tests guard themselves with
/// `.enabled(if: PostgresServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil)`:
/// skipped on a developer's machine without PostgreSQL, failing loudly in CI.
public final class PostgresServer: Sendable {
    /// The superuser's password over TCP.
    public static let superuserPassword = "postgres-test-superuser"

    /// The loopback port it listens on.
    public let port: Int
    /// Its data directory.
    public let dataDirectory: String
    /// The directory of its Unix socket.
    public let socketDirectory: String
    /// Where its log goes.
    public let logPath: String
    private let base: String
    /// Extra `-c name=value` settings of this server (TLS).
    private let settings: [String]
    private let process = Mutex<Process?>(nil)
    /// Whether ``destroy()`` removes the directory (not for a start attempt that lost its port).
    private let ownsFiles = Atomic<Bool>(true)

    /// The directory holding PostgreSQL's programs: `$SUPERVISE_TEST_PG_BINDIR`,
    /// else the newest `/usr/lib/postgresql/N/bin` (Debian's layout).
    public static let binDirectory: String? = {
        if let configured = ProcessInfo.processInfo.environment["SUPERVISE_TEST_PG_BINDIR"], !configured.isEmpty {
            return configured
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).sorted() ?? []
        return versions.reversed().map { "\(root)/\($0)/bin" }.first {
            FileManager.default.isExecutableFile(atPath: "\($0)/postgres")
        }
    }()

    /// Whether PostgreSQL's server programs are installed.
    public static var isInstalled: Bool {
        guard let binDirectory else { return false }
        return ["initdb", "postgres", "psql"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: "\(binDirectory)/\($0)")
        }
    }

    private static func program(_ name: String) throws -> String {
        guard let binDirectory, isInstalled else {
            throw PostgresServerError(
                "PostgreSQL is not installed (no initdb/postgres/psql under /usr/lib/postgresql/*/bin or "
                    + "$SUPERVISE_TEST_PG_BINDIR): apt-get install postgresql, or run scripts/test, which installs it")
        }
        return "\(binDirectory)/\(name)"
    }

    // MARK: Starting

    /// Starts a fresh server (a copy of the template) and waits until it accepts connections.
    /// With `tls`, TLS is on (`ssl=on`) with that certificate and key; plain connections are still accepted.
    public static func start(timeout: Duration = .seconds(60), tls: TestCertificates? = nil) async throws
        -> PostgresServer
    {
        let template = try await Template.shared.directory()
        let base = try Workspace.makeDirectory(prefix: "server")
        let data = base + "/data"
        let socket = base + "/s"  // short: a socket path is limited to 107 bytes
        let copy = try PostgresCommand.run(["/bin/cp", "-a", template, data])
        guard copy.status == 0 else { throw PostgresServerError("cannot copy the template: \(copy.standardError)") }
        try Workspace.makeOwnedDirectory(socket)
        var settings: [String] = []
        if let tls {
            // The server reads its key only if it alone may: copied into its directory, owned by it, 0600.
            for (source, name) in [(tls.certificate, "server.crt"), (tls.key, "server.key")] {
                try Workspace.copyOwned(source, to: "\(data)/\(name)")
            }
            settings = ["-c", "ssl=on", "-c", "ssl_cert_file=\(data)/server.crt", "-c", "ssl_key_file=\(data)/server.key"]
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = PostgresServer(port: try freePort(), base: base, data: data, socket: socket, settings: settings)
            do {
                try await server.launch(timeout: timeout)
                return server
            } catch let error as PostgresServerError where error.description.contains("Address already in use") {
                lastError = error  // another test took the port between our probe and the bind: another port
                server.ownsFiles.store(false, ordering: .relaxed)  // the next attempt uses the same directory
            }
        }
        throw lastError ?? PostgresServerError("could not start PostgreSQL")
    }

    private init(port: Int, base: String, data: String, socket: String, settings: [String]) {
        self.settings = settings
        self.port = port
        self.base = base
        self.dataDirectory = data
        self.socketDirectory = socket
        self.logPath = base + "/postgres.log"
        Registry.add(base: base, data: data)
    }

    /// Starts the postmaster on this server's port and data and waits until it is ready.
    private func launch(timeout: Duration) async throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
                throw PostgresServerError("cannot create \(logPath)")
            }
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let arguments = PostgresCommand.asOwner([
            try Self.program("postgres"), "-D", dataDirectory, "-p", "\(port)", "-k", socketDirectory,
            "-c", "listen_addresses=127.0.0.1",
            // fsync off: the page cache outlives a killed server (not a machine crash, which no test makes).
            // synchronous_commit stays on: with it off, a kill -9 loses commits the client was told of.
            "-c", "fsync=off",
            "-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c", "max_connections=60",
            "-c", "logging_collector=off", "-c", "log_min_messages=warning",
        ] + settings)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: arguments[0])
        child.arguments = Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        child.environment = environment
        child.standardOutput = log
        child.standardError = log
        child.standardInput = FileHandle.nullDevice
        try child.run()
        try? log.close()
        process.withLock { $0 = child }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isReady { return }
            if !child.isRunning {
                throw PostgresServerError("PostgreSQL exited (status \(child.terminationStatus)): \(logTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PostgresServerError("PostgreSQL did not accept connections within \(timeout): \(logTail())")
    }

    /// Whether a live postmaster says it is ready (the status line of postmaster.pid;
    /// a killed server's file stays behind saying so, hence the liveness check).
    private var isReady: Bool {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) else {
            return false
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let pid = pid_t(lines[0]), pid > 0, Glibc.kill(pid, 0) == 0 else { return false }
        return lines.count > 7 && lines[7].trimmingCharacters(in: .whitespaces) == "ready"
    }

    /// The postmaster's process id (from postmaster.pid), while it runs.
    public var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = pid_t(first), pid > 0, Glibc.kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// The last lines of the server's log, for failure messages.
    public func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    // MARK: Stopping

    /// Stops it cleanly (fast shutdown: sessions are ended) and waits until it has exited.
    public func stop(timeout: Duration = .seconds(30)) async throws {
        if let pid = postmasterPID { Glibc.kill(pid, SIGINT) }
        try await waitForExit(timeout: timeout)
    }

    /// Kills it and every backend at once (SIGKILL), as a crash or power cut would.
    public func kill() async throws {
        Self.killTree(postmasterPID)
        try await waitForExit(timeout: .seconds(30))
    }

    /// Starts it again on the same port and data (after ``stop(timeout:)`` or ``kill()``;
    /// after a kill the server recovers from its write-ahead log first).
    public func restart(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                try await launch(timeout: timeout)
                return
            } catch let error as PostgresServerError {
                // A backend of the killed server may hold the old shared memory a moment longer.
                guard ContinuousClock.now < deadline, error.description.contains("in use") else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func waitForExit(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while process.withLock({ $0?.isRunning ?? false }) || postmasterPID != nil {
            guard ContinuousClock.now < deadline else {
                throw PostgresServerError("PostgreSQL did not exit within \(timeout): \(logTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILLs the postmaster `pid` and every backend.
    ///
    /// The postmaster is stopped (SIGSTOP) before its children are listed: a
    /// backend it forked between the listing and its death (a client
    /// connecting at that moment) would otherwise live on as an orphan that
    /// still answers its connection, and a test of "the database is gone"
    /// would see a database that is not (FleetFaultTests waited its whole
    /// `--wait` on such a backend, one CI run in a few).
    static func killTree(_ pid: pid_t?) {
        guard let pid else { return }
        // runuser, the postmaster's parent, stops itself when its child stops, and a stopped parent
        // never reaps the killed postmaster: it is continued at the end.
        let parent = parentProcess(of: pid)
        Glibc.kill(pid, SIGSTOP)
        // A child forked just before the stop may not be in /proc's list on the first look.
        var seen = Set<pid_t>()
        for _ in 0..<3 {
            let children = Set(childProcesses(of: pid)).subtracting(seen)
            for child in children { Glibc.kill(child, SIGKILL) }
            seen.formUnion(children)
        }
        Glibc.kill(pid, SIGKILL)
        if let parent, parent > 1 { Glibc.kill(parent, SIGCONT) }
    }

    private static func parentProcess(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    private static func childProcesses(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// Kills the server and removes its files (also done for every server at process exit).
    public func destroy() {
        Self.killTree(postmasterPID)
        process.withLock { child in
            if let child, child.isRunning { Glibc.kill(child.processIdentifier, SIGKILL) }
        }
        guard ownsFiles.load(ordering: .relaxed) else { return }
        try? FileManager.default.removeItem(atPath: base)
        Registry.remove(base: base)
    }

    /// A server the test let go of is killed and removed.
    deinit {
        destroy()
    }

    // MARK: Using it

    /// A `postgres://` URL for `role` on `database` over TCP (no password in it: give it
    /// through the environment or a file, as the product requires).
    public func url(database: String = "postgres", role: String = "postgres") -> String {
        "postgres://\(role)@127.0.0.1:\(port)/\(database)"
    }

    /// Runs SQL as the superuser over the Unix socket and returns psql's unaligned, tuples-only output.
    /// - Throws: with psql's message when a statement fails (ON_ERROR_STOP).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let output = try PostgresCommand.run(
            [
                try Self.program("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory,
                "-p", "\(port)", "-U", "postgres", "-d", database, "-f", "-",
            ], input: sql)
        guard output.status == 0 else {
            throw PostgresServerError("psql failed (\(output.status)): \(output.standardError)")
        }
        return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a database (owned by `owner`, default the superuser) and returns its URL for `owner`.
    @discardableResult
    public func createDatabase(_ name: String, owner: String = "postgres") throws -> String {
        try Self.requireIdentifier(name)
        try Self.requireIdentifier(owner)
        try psql("CREATE DATABASE \(name) OWNER \(owner)")
        return url(database: name, role: owner)
    }

    /// Creates a login role with `password`; `attributes` are role options such as `CREATEDB`.
    public func createRole(_ name: String, password: String, attributes: String = "") throws {
        try Self.requireIdentifier(name)
        let quoted = password.replacingOccurrences(of: "'", with: "''")
        try psql("CREATE ROLE \(name) LOGIN PASSWORD '\(quoted)' \(attributes)")
    }

    /// Test names are plain identifiers; anything else is a mistake in the test.
    private static func requireIdentifier(_ name: String) throws {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F })
        else { throw PostgresServerError("\(name) is not a plain identifier ([a-z0-9_])") }
    }

    /// A free loopback TCP port (bound and released; ``start(timeout:)`` retries on a clash).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresServerError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw PostgresServerError("cannot bind a port: errno \(errno)") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
