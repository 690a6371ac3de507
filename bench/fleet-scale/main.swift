// The fleet at issue 19's scale ("Scale"): a real PostgreSQL 15 (PostgresTestSupport) holding
// H simulated hosts × B bottles × P pending proposals (100 × 100 × 10 = 100,000 rows by
// default), mirrored through FleetStore.mirror in each host's batches with realistic rows
// (a 24-line proposed allowlist, the bottle's 22-line current file, a few lines of
// justification, risk hints on one proposal in four), then timed side by side, run after run:
//   page   the fleet list page (`bottle-supervise web --database`) fetched over HTTP with a
//          signed-in session, as a browser fetches it (curl's time_total: request to last byte);
//   list   `bottle-supervise list --database` as a process: wall time from spawn to exit;
// and a relay at rest: `bottle-supervise relay` for one more host, CPU seconds (utime + stime
// from /proc) over --idle seconds after it caught up, and its resident memory.
//
// Usage: fleet-scale --binary PATH [--hosts H] [--bottles B] [--pending P] [--runs N] [--idle S]
import Fleet
import Foundation
import PostgresTestSupport
import Queue
import Risk

@main
struct FleetScaleBench {
    struct Options {
        var binary = ".build/debug/bottle-supervise"
        var hosts = 100
        var bottles = 100
        var pending = 10
        var runs = 30
        var idle = 60
    }

    static func main() async {
        do {
            try await run(parse())
        } catch {
            FileHandle.standardError.write(Data("fleet-scale: \(error)\n".utf8))
            exit(1)
        }
    }

    static func parse() -> Options {
        var options = Options()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            let value = arguments.next()
            switch (argument, value, value.flatMap { Int($0) }) {
            case ("--binary", let path?, _): options.binary = path
            case ("--hosts", _, let number?): options.hosts = number
            case ("--bottles", _, let number?): options.bottles = number
            case ("--pending", _, let number?): options.pending = number
            case ("--runs", _, let number?): options.runs = number
            case ("--idle", _, let number?): options.idle = number
            default:
                FileHandle.standardError.write(
                    Data(
                        "usage: fleet-scale --binary PATH [--hosts H] [--bottles B] [--pending P] [--runs N] [--idle SECONDS]\n"
                            .utf8))
                exit(2)
            }
        }
        return options
    }

    static func run(_ options: Options) async throws {
        let clock = ContinuousClock()
        let server = try await PostgresServer.start()
        defer { server.destroy() }
        let url = try server.createDatabase("fleet")
        setenv("PGPASSWORD", PostgresServer.superuserPassword, 1)
        guard
            let settings = try FleetDatabaseSettings.resolve(
                flag: url, passwordFileFlag: nil, environment: ["PGPASSWORD": PostgresServer.superuserPassword])
        else { throw PostgresServerError("no database settings") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-scale-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        let started = clock.now
        let total = try await FleetStore.withStore(settings: settings) { store in
            try await store.migrator.migrate()
            try await fill(store, options)
            return try await store.pendingPage(limit: 0).total ?? 0
        }
        _ = try server.psql("VACUUM ANALYZE", database: "fleet")
        let size = try server.psql("SELECT pg_size_pretty(pg_database_size('fleet'))", database: "fleet")
        print(
            "filled: \(total) pending proposals (\(options.hosts) hosts × \(options.bottles) bottles × \(options.pending)) "
                + "in \(ms(clock.now - started)); database \(size.trimmingCharacters(in: .whitespacesAndNewlines))")

        // The plans of a list's two statements at this size (the SQL as FleetStore+PendingPage.swift sends it).
        let pending = """
            FROM fleet_proposals p WHERE NOT p.archived
              AND NOT EXISTS (SELECT 1 FROM fleet_decisions d WHERE d.host = p.host AND d.bottle = p.bottle AND d.id = p.id)
            """
        for (what, sql) in [
            ("count", "SELECT count(*) \(pending)"),
            ("page keys", "SELECT p.host, p.bottle, p.id \(pending) ORDER BY p.created_at, p.host, p.bottle, p.id LIMIT 200"),
        ] {
            let plan = try server.psql("EXPLAIN (ANALYZE, BUFFERS) \(sql)", database: "fleet")
            let lines = plan.split(separator: "\n").filter { $0.contains("Scan") || $0.contains("Execution Time") }
            print("plan of the \(what):\n" + lines.map { "    " + $0 }.joined(separator: "\n"))
        }

        var children: [Process] = []
        defer { for child in children where child.isRunning { child.terminate(); child.waitUntilExit() } }
        let (web, page) = try await startWeb(options.binary, url: url, scratch: scratch)
        children.append(web)
        let cookie = try signIn(page)

        var pageTimes: [Duration] = []
        var listTimes: [Duration] = []
        var pageBytes = 0
        var listLines = 0
        for _ in 0..<options.runs {
            let (time, body) = try fetch(page.base + "/", cookie: cookie)
            pageTimes.append(time)
            pageBytes = body.utf8.count
            let listed = clock.now
            let output = try runToEnd(options.binary, ["list", "--database", url])
            listTimes.append(clock.now - listed)
            listLines = output.split(separator: "\n").count
        }
        print("runs: \(options.runs), side by side (page, then list, each run)")
        print("fleet page GET / (\(pageBytes) bytes): \(summary(pageTimes))")
        print("list --database (\(listLines) lines of output): \(summary(listTimes))")

        let (cpu, rss) = try await idleRelay(options, url: url, scratch: scratch, children: &children)
        print(String(format: "relay at rest for %d s: %.3f CPU seconds, RSS %d KiB", options.idle, cpu, rss))
    }

    // MARK: - The fleet's rows

    /// The allowlist a bottle has now: 22 host names, about 560 bytes.
    static func currentFile(host: Int, bottle: Int) -> String {
        (0..<22).map { "service-\($0).bottle-\(bottle).host-\(host).internal.example.com\n" }.joined()
    }

    /// Every host's snapshot, mirrored as its relay mirrors it (batches of 500 rows per statement).
    static func fill(_ store: FleetStore, _ options: Options) async throws {
        let now = Date()
        for h in 0..<options.hosts {
            let host = try FleetHostName("host-\(h)")
            try await store.registerHost(host, version: "bench")
            var rows: [FleetProposalRow] = []
            rows.reserveCapacity(options.bottles * options.pending)
            let slugs = try (0..<options.bottles).map { try BottleSlug("bottle-\($0)") }
            for (b, slug) in slugs.enumerated() {
                let current = currentFile(host: h, bottle: b)
                for p in 0..<options.pending {
                    // Spread over the last week, so the oldest are not one host's.
                    let createdAt = now.addingTimeInterval(-Double((h * 7919 + b * 104_729 + p * 1_299_709) % 604_800))
                    let file = current + "pypi.org\nfiles.pythonhosted.org\n" + (p % 4 == 0 ? "git.corp.internal\n*.github.io\n" : "")
                    let proposal = Proposal(
                        id: .generate(at: createdAt), bottle: slug, tool: .pipelockBlock, proposedFile: file,
                        justification: """
                            The agent's test suite installs its dependencies from PyPI (pip install -r \
                            requirements.txt) and the install fails on files.pythonhosted.org.
                            Run \(p) of the nightly build on host-\(h).
                            """,
                        currentFileSHA256: SHA256Hex.of(current), createdAt: createdAt,
                        expiresAt: createdAt.addingTimeInterval(86_400))
                    let hints =
                        p % 4 == 0
                        ? [
                            RiskHint(.warning, "internal-name", "git.corp.internal is a private-use name", line: 25),
                            RiskHint(.critical, "wildcard-public-suffix", "*.github.io: every site under a public suffix", line: 26),
                        ] : []
                    rows.append(
                        FleetProposalRow(
                            host: host, bottle: slug, id: proposal.id, tool: proposal.tool,
                            proposal: try QueueFormat.encode(proposal), proposedFile: file,
                            justification: proposal.justification, createdAt: proposal.createdAt,
                            expiresAt: proposal.expiresAt, riskHints: hints, currentFile: current,
                            waiting: p % 3 == 0))
                }
            }
            try await store.mirror(FleetSnapshot(host: host, bottles: slugs, proposals: rows))
        }
    }

    // MARK: - The page

    struct PageAddress {
        var base: String
        var login: String
    }

    /// `web --database` on a free loopback port; its one-time login link.
    static func startWeb(_ binary: String, url: String, scratch: String) async throws -> (Process, PageAddress) {
        let port = try PostgresServer.freePort()
        let settings = "\(scratch)/host.toml"
        try Data("# no [fleet] approvals: one approval decides\n".utf8).write(to: URL(fileURLWithPath: settings))
        let web = Process()
        web.executableURL = URL(fileURLWithPath: binary)
        web.arguments = [
            "web", "--database", url, "--port", "\(port)", "--token-file", "\(scratch)/web-token", "--settings", settings,
        ]
        let out = Pipe()
        web.standardOutput = out
        web.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try web.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("\n"), Date() < deadline, web.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"http://[^ ]+"#, options: .regularExpression) else {
            throw PostgresServerError("web --database printed no login link: \(text)")
        }
        let login = String(text[range])
        return (web, PageAddress(base: "http://127.0.0.1:\(port)", login: login))
    }

    /// Follows the login link once; the session cookie it sets.
    static func signIn(_ page: PageAddress) throws -> String {
        let headers = try runToEnd("/usr/bin/curl", ["-s", "-o", "/dev/null", "-D", "-", page.login])
        guard
            let line = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("set-cookie:") }),
            let pair = line.dropFirst("set-cookie:".count).split(separator: ";").first
        else { throw PostgresServerError("the login link set no cookie: \(headers)") }
        return pair.trimmingCharacters(in: .whitespaces)
    }

    /// One GET with the session: curl's own time from the request to the last byte, and the body.
    static func fetch(_ url: String, cookie: String) throws -> (Duration, String) {
        let marker = "\n--time-total:"
        let output = try runToEnd(
            "/usr/bin/curl", ["-s", "--fail", "-H", "Cookie: \(cookie)", "-w", "\(marker)%{time_total}", url])
        guard let range = output.range(of: marker, options: .backwards), let seconds = Double(output[range.upperBound...])
        else { throw PostgresServerError("no timing from curl: \(output.suffix(200))") }
        return (.microseconds(Int64(seconds * 1e6)), String(output[..<range.lowerBound]))
    }

    // MARK: - A relay at rest

    /// One more host's relay (an empty queue), from caught up: its CPU over `options.idle` seconds and its RSS.
    static func idleRelay(_ options: Options, url: String, scratch: String, children: inout [Process]) async throws
        -> (Double, Int)
    {
        let root = "\(scratch)/idle"
        let relay = try await BenchRelay.start(binary: options.binary, database: url, hostName: "idle", root: root)
        children.append(relay)
        try await Task.sleep(for: .seconds(2))
        let before = try cpuSeconds(relay.processIdentifier)
        try await Task.sleep(for: .seconds(options.idle))
        let after = try cpuSeconds(relay.processIdentifier)
        return (after - before, try residentKiB(relay.processIdentifier))
    }

    /// utime + stime of `pid`, in seconds (/proc/PID/stat, fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        guard let close = stat.lastIndex(of: ")") else { throw PostgresServerError("unreadable /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3): utime is field 14, stime 15.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw PostgresServerError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func residentKiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw PostgresServerError("no VmRSS for \(pid)") }
        return kib
    }

    // MARK: - Helpers

    /// Runs `program` to its end; its standard output (standard error discarded). A failure throws.
    static func runToEnd(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresServerError("\(program) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    static func summary(_ values: [Duration]) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "n/a" }
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        return "median \(ms(sorted[sorted.count / 2])), p99 \(ms(p99)), worst \(ms(sorted.last!)) (n=\(sorted.count))"
    }
}
