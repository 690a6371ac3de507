import Foundation
import Queue
import SystemPackage
import Testing

/// `bottle-supervise web` in a real browser (headless Chromium through
/// Selenium), with a real sidecar and the official Python MCP client as the
/// agent: log in, see a proposal arrive live, decide it three ways, and fail
/// every forgery. Screenshots land in `$SUPERVISE_SCREENSHOTS` (docs/ when
/// refreshing the README's pictures), else in the test's scratch folder.
@Suite(
    "Web console in a browser", .serialized,
    .enabled(if: WebBrowser.isAvailable, "chromium, chromium-driver or selenium is missing (scripts/test installs them as root)"))
struct WebConsoleBrowserTests {
    let scratch = Scratch()

    @Test("login, live list, inert agent text, forgeries refused, phone width, approve/reject/modify reach the agent")
    func browser() async throws {
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        scratch.write("[reload.allowlist]\ncommand = [\"true\"]\n", at: "bottles/web/supervise.toml")
        try FileManager.default.createDirectory(atPath: scratch.path + "/queue/web", withIntermediateDirectories: true)

        let sidecarLog = scratch.path + "/sidecar.err"
        let sidecar = try WebBrowser.start(
            [
                BuiltBinary.path, "serve", "--slug", "web", "--queue-dir", scratch.path + "/queue/web",
                "--current-config", scratch.path + "/bottles/web", "--port", "0",
            ], stderr: sidecarLog)
        defer { WebBrowser.stop(sidecar) }
        let sidecarURL = try await WebBrowser.waitForLine(in: sidecarLog, after: "listening on ")
        let (web, loginURL) = try await WebBrowser.startWebConsole(in: scratch)
        defer { WebBrowser.stop(web) }

        let shots = ProcessInfo.processInfo.environment["SUPERVISE_SCREENSHOTS"] ?? scratch.path
        let result = try ApplyFixtures.run(
            [
                WebBrowser.python, PythonClient.repoRoot + "/Tests/EndToEndTests/python/web_console_browser.py",
                loginURL, sidecarURL, scratch.path + "/queue/web", shots,
            ], timeout: .seconds(240))
        let line = try #require(result.out.split(separator: "\n").last, "no output; stderr: \(result.err)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])

        #expect(out["after_login_path"] as? String == "/")
        #expect(out["cookie_http_only"] as? Bool == true)
        #expect(out["cookie_same_site"] as? String == "Strict")
        #expect(out["reused_login_status"] as? Int == 403)
        #expect(out["no_cookie_status"] as? Int == 401)
        #expect(out["foreign_host_status"] as? Int == 421)
        let appeared = try #require(out["appeared_after_s"] as? Double, "the proposal never appeared live")
        #expect(appeared < 1.0)
        print("web console: a queued proposal appeared on the open page after \(appeared) s")
        #expect(out["pwned"] is NSNull)
        #expect((out["justification_text"] as? String)?.contains("<script>window.pwned=1</script>") == true)
        #expect(out["script_elements"] as? Int == 0)
        #expect(out["img_elements"] as? Int == 0)
        #expect(out["no_csrf_status"] as? Int == 403)
        #expect(out["foreign_origin_status"] as? Int == 403)
        #expect(out["decided_by_forgery"] as? Bool == false)
        let scroll = try #require(out["phone_scroll_width"] as? Int)
        let inner = try #require(out["phone_inner_width"] as? Int)
        #expect(scroll <= inner)
        #expect((out["phone_approve_right"] as? Double ?? 9999) <= Double(inner))
        #expect(
            (out["approve_message"] as? String)?.hasPrefix("Approved") == true,
            "\(out["approve_message"] ?? "none"): \(out["approve_page"] ?? "")")

        func structured(_ key: String) -> [String: Any]? {
            (out[key] as? [String: Any])?["structured"] as? [String: Any]
        }
        #expect(structured("approve_agent")?["status"] as? String == "approved", "\(out["approve_agent"] ?? "none")")
        #expect(structured("reject_agent")?["status"] as? String == "rejected", "\(out["reject_agent"] ?? "none")")
        #expect(structured("reject_agent")?["notes"] as? String == "use the internal mirror")
        #expect(structured("modify_agent")?["status"] as? String == "modified", "\(out["modify_agent"] ?? "none")")
        #expect(structured("modify_agent")?["final_file"] as? String == "api.github.com\ndocs.example.com\n")
    }
}

/// The web console's editor in Chromium: Modify without a change applies
/// exactly the bytes of the file the page showed (docs/security.md, "The web
/// editor applies what it shows").
@Suite(
    "Web console editor in a browser", .serialized,
    .enabled(if: WebBrowser.isAvailable, "chromium, chromium-driver or selenium is missing (scripts/test installs them as root)"))
struct WebConsoleEditorBrowserTests {
    let scratch = Scratch()

    @Test("Modify without a change applies the shown bytes: leading newlines, no final newline, CR LF, no-break spaces; NUL refused")
    func editorKeepsBytes() async throws {
        scratch.write("api.github.com\n", at: "bottles/web/allowlist")
        scratch.write(#"{"routes": []}"# + "\n", at: "bottles/web/routes.json")
        scratch.write(
            "[reload.allowlist]\ncommand = [\"true\"]\n[reload.routes]\ncommand = [\"true\"]\n",
            at: "bottles/web/supervise.toml")
        let bottle = try BottleSlug("web")
        let queue = BottleQueue(directory: FilePath(scratch.path + "/queue/web"), bottle: bottle)
        try queue.prepare()
        let files: [(Tool, String)] = [
            (.pipelockBlock, "\n\napi.github.com\npypi.org"),
            (.credProxyBlock, "{\r\n  \"routes\": [{\"host\": \"api.one.example\", \"header\": \"Authorization\"}]\r\n}\r\n\r\n"),
            (.credProxyBlock, "\n{\"routes\": [{\"host\": \"api.two.example\", \"header\": \"X-Key\", \"note\": \"a\u{00A0}b \u{00A0}\"}]}\n\n"),
        ]
        var proposals: [Proposal] = []
        for (index, (tool, file)) in files.enumerated() {
            // Applied in this order: each routes proposal is made against the one before it.
            let current = tool == .pipelockBlock ? "api.github.com\n" : index == 2 ? files[1].1 : #"{"routes": []}"# + "\n"
            let proposal = Proposal(
                bottle: bottle, tool: tool, proposedFile: file, justification: "bytes",
                currentFileSHA256: SHA256Hex.of(current))
            _ = try await queue.submit(proposal)
            proposals.append(proposal)
            try await Task.sleep(for: .milliseconds(5))
        }
        let mixed = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.github.com\r\npypi.org\n", justification: "mixed",
            currentFileSHA256: SHA256Hex.of("api.github.com\n"))
        _ = try await queue.submit(mixed)

        let (web, loginURL) = try await WebBrowser.startWebConsole(in: scratch)
        defer { WebBrowser.stop(web) }
        let result = try ApplyFixtures.run(
            [
                WebBrowser.python, PythonClient.repoRoot + "/Tests/EndToEndTests/python/web_console_editor.py",
                loginURL, scratch.path,
            ] + proposals.map(\.id.rawValue) + ["--", mixed.id.rawValue], timeout: .seconds(180))
        let line = try #require(result.out.split(separator: "\n").last, "no output; stderr: \(result.err)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])

        #expect((out["nul_message"] as? String)?.contains("NUL") == true, "\(out["nul_message"] ?? "none")")
        let host = QueueRoot(FilePath(scratch.path + "/queue")).queue(for: bottle)
        for proposal in proposals {
            let message = (out["message"] as? [String: Any])?[proposal.id.rawValue] as? String
            #expect(message?.hasPrefix("Modified — applied") == true, "\(message ?? "none")")
            let editor = (out["editor_value"] as? [String: Any])?[proposal.id.rawValue] as? String
            #expect(editor == proposal.proposedFile.replacingOccurrences(of: "\r\n", with: "\n"), "the editor showed other text")
            let decision = try #require(try host.decision(proposal.id))
            #expect(decision.status == .modified)
            #expect(decision.finalFile.map { Array($0.utf8) } == Array(proposal.proposedFile.utf8))
        }
        let routes = try String(contentsOfFile: scratch.path + "/bottles/web/routes.json", encoding: .utf8)
        #expect(Array(routes.utf8) == Array(proposals[2].proposedFile.utf8))
        let allowlist = try String(contentsOfFile: scratch.path + "/bottles/web/allowlist", encoding: .utf8)
        #expect(allowlist == proposals[0].proposedFile)
        #expect(out["uneditable_editors"] as? Int == 0)
        #expect((out["uneditable_text"] as? String)?.contains("mixes line endings") == true)
    }
}

/// What the browser test needs from the machine, and process handling.
enum WebBrowser {
    static let chromium = ProcessInfo.processInfo.environment["CHROMIUM"] ?? "/usr/bin/chromium"
    static let driver = ProcessInfo.processInfo.environment["CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    static var python: String { PythonClient.python ?? "python3" }

    static var isAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: chromium),
            FileManager.default.isExecutableFile(atPath: driver), let python = PythonClient.python
        else { return false }
        return (try? ApplyFixtures.run([python, "-c", "import selenium"], timeout: .seconds(30)).status) == 0
    }

    /// `bottle-supervise web` over the scratch directory's `queue` and `bottles`, on a free port,
    /// with a settings file of its own that sets nothing (no notifications, not the user's file).
    /// - Returns: its pid and the one-time login URL it printed.
    static func startWebConsole(in scratch: Scratch) async throws -> (pid: pid_t, loginURL: String) {
        let webLog = scratch.path + "/web.out"
        let noSettings = scratch.write("", at: "no-settings.toml")
        let web = try start(
            [
                BuiltBinary.path, "web", "--port", "0", "--token-file", scratch.path + "/web-token",
                "--settings", noSettings,
                "--queue-root", scratch.path + "/queue", "--config-root", scratch.path + "/bottles",
            ], stdout: webLog)
        do {
            return (web, try await waitForLine(in: webLog, after: "log in at "))
        } catch {
            stop(web)
            throw error
        }
    }

    static func start(_ argv: [String], stdout: String? = nil, stderr: String? = nil) throws -> pid_t {
        let out = stdout.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
        let err = stderr.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
        defer {
            if let out { close(out) }
            if let err { close(err) }
        }
        return try ApplyFixtures.spawn(argv, stdout: out, stderr: err)
    }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 where waitpid(pid, &status, WNOHANG) == 0 { usleep(20_000) }
        kill(pid, SIGKILL)
        waitpid(pid, &status, WNOHANG)
    }

    /// The rest of the first line of `file` that contains `marker`, within 15 s.
    static func waitForLine(in file: String, after marker: String) async throws -> String {
        var found: String?
        _ = await ApplyFixtures.eventually(timeout: .seconds(15)) {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            guard let range = text.range(of: marker) else { return false }
            found = String(text[range.upperBound...].prefix { !$0.isWhitespace })
            return true
        }
        return try #require(found, "no \"\(marker)\" in \(file): \((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")")
    }
}
