import Foundation
import Testing

/// What a newcomer meets on the command line (issue 22): each message names the value, where it
/// came from and what to do; usage errors exit 2, failures 1, as the README says.
@Suite("Command line: messages and exit statuses", .serialized)
struct CommandLineMessagesTests {
    let scratch = Scratch()

    func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) throws
        -> (status: Int32, out: String, err: String)
    {
        try ApplyFixtures.run([BuiltBinary.path] + arguments, environment: ["NO_COLOR": "1"].merging(environment) { $1 }, timeout: timeout)
    }

    /// A listening socket on a free loopback port, held until the returned descriptor is closed.
    func occupiedPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw E2EFailure("cannot listen: errno \(errno)") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Queue and config roots that exist, with one bottle's current allowlist.
    func roots() -> (queue: String, config: String) {
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        try? FileManager.default.createDirectory(atPath: scratch.path + "/queue/web", withIntermediateDirectories: true)
        return (scratch.path + "/queue", scratch.path + "/bottles")
    }

    @Test("a port in use: serve and web exit 1 naming the address and port and what to do")
    func portInUse() throws {
        let (fd, port) = try occupiedPort()
        defer { close(fd) }
        let (queue, config) = roots()
        let serve = try run([
            "serve", "--slug", "web", "--queue-dir", queue + "/web", "--current-config", config + "/web", "--port", "\(port)",
        ])
        #expect(serve.status == 1, "\(serve.err)")
        #expect(
            serve.err.contains("bottle-supervise serve: cannot listen on 127.0.0.1:\(port): port \(port) is in use by another program; pick another with --port"),
            "\(serve.err)")
        #expect(!serve.err.contains("errno"), "\(serve.err)")
        let web = try run(
            ["web", "--port", "\(port)", "--queue-root", queue, "--config-root", config, "--token-file", scratch.path + "/token"])
        #expect(web.status == 1, "\(web.err)")
        #expect(web.err.contains("bottle-supervise web: cannot listen on 127.0.0.1:\(port): port \(port) is in use"), "\(web.err)")
    }

    @Test("notify, console and web: a --settings file that does not exist fails naming it, not as 'no channel'")
    func missingSettings() throws {
        let (queue, config) = roots()
        let missing = scratch.path + "/nonexistent/host.toml"
        for command in ["notify", "console", "web"] {
            let result = try run([command, "--settings", missing, "--queue-root", queue, "--config-root", config, "--port", "0"].filter {
                command == "web" || ($0 != "--port" && $0 != "0")
            })
            #expect(result.status == 1, "\(command): \(result.err)")
            #expect(result.err.contains("the settings file \(missing) does not exist (--settings)"), "\(command): \(result.err)")
            #expect(!result.err.contains("sets no notification channel"), "\(command): \(result.err)")
        }
        let fromVariable = try run(
            ["notify", "--queue-root", queue, "--config-root", config], environment: ["SUPERVISE_SETTINGS": missing])
        #expect(fromVariable.status == 1)
        #expect(fromVariable.err.contains("($SUPERVISE_SETTINGS)"), "\(fromVariable.err)")
    }

    @Test("values that do not parse exit 2 naming the flag: addresses, negative numbers")
    func parseFailures() throws {
        let (queue, config) = roots()
        let address = try run(["health", "--address", "999.1.1.1"])
        #expect(address.status == 2, "\(address.err)")
        #expect(address.err.contains("--address"), "\(address.err)")
        let bind = try run(["serve", "--slug", "web", "--queue-dir", queue + "/web", "--current-config", config + "/web", "--bind", "999.1.1.1"])
        #expect(bind.status == 2, "\(bind.err)")
        #expect(bind.err.contains("--bind 999.1.1.1 is not an IPv4 or IPv6 address"), "\(bind.err)")
        let bindVariable = try run(
            ["serve", "--slug", "web", "--queue-dir", queue + "/web", "--current-config", config + "/web"],
            environment: ["SUPERVISE_BIND": "my-host:80"])
        #expect(bindVariable.status == 2, "\(bindVariable.err)")
        #expect(bindVariable.err.contains("$SUPERVISE_BIND"), "\(bindVariable.err)")
        let timeout = try run(["health", "--timeout", "-1"])
        #expect(timeout.status == 2, "\(timeout.err)")
        #expect(timeout.err.contains("--timeout must be a positive number of seconds, not -1"), "\(timeout.err)")
        #expect(!timeout.err.contains("Missing value"), "\(timeout.err)")
        let hold = try run(["serve", "--slug", "web", "--queue-dir", queue + "/web", "--current-config", config + "/web", "--hold-limit", "-5"])
        #expect(hold.status == 2, "\(hold.err)")
        #expect(hold.err.contains("--hold-limit must be"), "\(hold.err)")
        #expect(hold.err.contains("not -5"), "\(hold.err)")
        // localhost is an address health can ask (and says so).
        let (fd, port) = try occupiedPort()
        close(fd)
        let localhost = try run(["health", "--address", "localhost", "--port", "\(port)", "--timeout", "0.5"])
        #expect(localhost.status == 1, "nothing listens: unhealthy, not a usage error: \(localhost.err)")
        #expect(localhost.out.contains("unhealthy"), "\(localhost.out)")
    }

    @Test("bottle-supervise with no command prints the usage on stderr and exits 2")
    func noSubcommand() throws {
        let result = try run([])
        #expect(result.status == 2)
        #expect(result.err.contains("SUBCOMMANDS:"), "\(result.err)")
        #expect(result.err.contains("bottle-supervise: give a command"), "\(result.err)")
    }

    @Test("log --json on a corrupt audit log exits 1 like log, after the good lines")
    func corruptLogAsJSON() async throws {
        let bottle = try ServedBottle()
        let (id, asked) = try bottle.ask("api.github.com\npypi.org\n")
        #expect(try bottle.operatorCommand(["approve", id]).status == 0)
        _ = try asked.finish(timeout: 60)
        let good = try bottle.operatorCommand(["log", "--json"])
        #expect(good.status == 0, "\(good.err)")
        let path = bottle.queueRoot + "/audit.log"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"not\": \"a record\"}\n".utf8))
        try handle.close()
        let table = try bottle.operatorCommand(["log"])
        let json = try bottle.operatorCommand(["log", "--json"])
        #expect(table.status == 1, "\(table.err)")
        #expect(json.status == 1, "\(json.out)\(json.err)")
        #expect(json.err.contains("line 3"), "\(json.err)")
        #expect(json.out == good.out, "the records before the bad line are printed")
    }

    @Test("serve --current-config that does not exist: exit 1 naming it, before listening")
    func missingCurrentConfig() throws {
        let (queue, _) = roots()
        let missing = scratch.path + "/no/such/dir"
        let result = try run(["serve", "--slug", "web", "--queue-dir", queue + "/web", "--current-config", missing, "--port", "0"])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("the current config directory \(missing) does not exist (--current-config)"), "\(result.err)")
        #expect(!result.err.contains("listening on"), "\(result.err)")
    }

    @Test("web: TLS files are checked with the flag named; a non-loopback bind needs TLS or --insecure-http")
    func webTLSAndBind() async throws {
        let (queue, config) = roots()
        let base = ["web", "--queue-root", queue, "--config-root", config, "--token-file", scratch.path + "/token", "--port", "0"]
        let missing = try run(base + ["--tls-cert", scratch.path + "/missing.pem", "--tls-key", scratch.path + "/missing.key"])
        #expect(missing.status == 1, "\(missing.err)")
        #expect(missing.err.contains("--tls-cert \(scratch.path)/missing.pem: No such file or directory"), "\(missing.err)")
        #expect(!missing.err.contains("failedToLoadCertificate"), "\(missing.err)")
        let notPEM = scratch.write("hello\n", at: "cert.txt")
        let wrong = try run(base + ["--tls-cert", notPEM, "--tls-key", notPEM])
        #expect(wrong.status == 1, "\(wrong.err)")
        #expect(wrong.err.contains("--tls-cert \(notPEM) holds no PEM certificate"), "\(wrong.err)")

        let open = try run(base + ["--bind", "0.0.0.0"])
        #expect(open.status == 2, "\(open.err)")
        #expect(open.err.contains("--bind 0.0.0.0 is reachable from other machines"), "\(open.err)")
        #expect(open.err.contains("--insecure-http"), "\(open.err)")
        // Told so, it starts (and prints its login URL).
        let insecure = try BackgroundCommand([BuiltBinary.path] + base + ["--bind", "0.0.0.0", "--insecure-http"])
        defer { if insecure.process.isRunning { insecure.process.terminate() } }
        let started = await ApplyFixtures.eventually(timeout: .seconds(20)) {
            insecure.outputSoFar.contains("log in at http://127.0.0.1:")
        }
        #expect(started, "web --insecure-http: \(insecure.outputSoFar)\(insecure.errorSoFar)")
        #expect(insecure.process.isRunning)
    }

    @Test("web --help gives each default once")
    func webHelpDefaults() throws {
        let help = try run(["web", "--help"])
        #expect(help.status == 0)
        let flat = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.components(separatedBy: "(default: 127.0.0.1)").count - 1 == 1, "\(help.out)")
        #expect(!flat.contains("(default 127.0.0.1"), "\(help.out)")
        #expect(flat.components(separatedBy: "(default: 9200)").count - 1 == 1, "\(help.out)")
    }
}

/// Decided proposals as the operator reads them: `list --all`, `show` and `show --json` weigh the
/// same risk; `modify` with nothing changed decides nothing.
@Suite("Command line: decided proposals and unchanged modifications", .serialized)
struct DecidedProposalCommandTests {
    @Test("an approved wildcard: list --all, show and show --json all give its warning (list --all gave none)")
    func riskOfDecided() throws {
        let bottle = try ServedBottle()
        let (id, asked) = try bottle.ask("api.github.com\n*.example.com\n")
        #expect(try bottle.operatorCommand(["approve", id]).status == 0)
        _ = try asked.finish(timeout: 60)

        let listed = try bottle.operatorCommand(["list", "--all", "--json"])
        #expect(listed.status == 0, "\(listed.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any])
        let row = try #require((document["proposals"] as? [[String: Any]])?.first { $0["id"] as? String == id })
        #expect(row["highest_risk"] as? String == "warning", "\(row)")
        #expect((row["risk_hints"] as? [[String: Any]])?.first?["rule"] as? String == "wildcard", "\(row)")

        let shownJSON = try bottle.operatorCommand(["show", id, "--json"])
        #expect(shownJSON.status == 0, "\(shownJSON.err)")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(shownJSON.out.utf8)) as? [String: Any])
        let proposal = try #require(shown["proposal"] as? [String: Any])
        #expect(proposal["highest_risk"] as? String == "warning", "\(proposal)")
        #expect(proposal["state"] as? String == "approved")
        #expect(shown["final_file"] as? String == "api.github.com\n*.example.com\n")
        #expect((shown["apply_summary"] as? String)?.hasPrefix("applied:") == true, "\(shown)")

        let table = try bottle.operatorCommand(["list", "--all"])
        let line = try #require(table.out.split(separator: "\n").first { $0.contains(id) })
        #expect(line.contains("warning"), "\(line)")
        let text = try bottle.operatorCommand(["show", id])
        #expect(text.out.contains("WARNING"), "\(text.out)")
    }

    @Test("modify with the proposal unchanged (--edit with an editor that saves it as is, or --file): nothing is decided, exit 1")
    func unchangedModify() throws {
        let bottle = try ServedBottle()
        let proposed = "api.github.com\npypi.org\n"
        let (id, asked) = try bottle.ask(proposed)
        defer { asked.process.terminate() }
        let edited = try ApplyFixtures.run(
            [BuiltBinary.path, "modify", id, "--edit"],
            environment: [
                "SUPERVISE_QUEUE_ROOT": bottle.queueRoot, "SUPERVISE_CONFIG_ROOT": bottle.configRoot, "VISUAL": "true",
                "NO_COLOR": "1",
            ])
        #expect(edited.status == 1, "\(edited.out)\(edited.err)")
        #expect(edited.err.contains("the edited file is the proposal unchanged: nothing was decided"), "\(edited.err)")
        #expect(edited.err.contains("bottle-supervise approve \(id)"), "\(edited.err)")
        let same = bottle.scratch.write(proposed, at: "same")
        let given = try bottle.operatorCommand(["modify", id, "--file", same])
        #expect(given.status == 1, "\(given.err)")
        #expect(given.err.contains("the given file is the proposal unchanged"), "\(given.err)")
        #expect(!FileManager.default.fileExists(atPath: bottle.queueDirectory + "/\(id).decision.json"))
        #expect(try bottle.waitForPending().contains(id))
    }
}
