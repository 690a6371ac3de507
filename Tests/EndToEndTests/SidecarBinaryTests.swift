import Foundation
import Testing

/// `bottle-supervise-sidecar`, the container image's binary, is `bottle-supervise serve` and
/// `health` and nothing else: the same help, messages, exit statuses and bytes on the wire.
@Suite("The sidecar's own binary: serve and health, as bottle-supervise has them", .serialized)
struct SidecarBinaryTests {
    let scratch = Scratch()

    /// `$BOTTLE_SUPERVISE_SIDECAR_BIN`, else the one SwiftPM built beside `bottle-supervise`.
    static var leanBinary: String {
        if let path = ProcessInfo.processInfo.environment["BOTTLE_SUPERVISE_SIDECAR_BIN"] { return path }
        return (BuiltBinary.path as NSString).deletingLastPathComponent + "/bottle-supervise-sidecar"
    }

    /// Runs `arguments` with both binaries (variables of ours cleared, so only `environment` counts).
    func both(_ arguments: [String], environment: [String: String] = [:]) throws
        -> (full: (status: Int32, out: String, err: String), lean: (status: Int32, out: String, err: String))
    {
        let cleared = [
            "SUPERVISE_BOTTLE_SLUG", "SUPERVISE_QUEUE_DIR", "SUPERVISE_PORT", "SUPERVISE_BIND", "SUPERVISE_DEBUG",
            "SUPERVISE_CURRENT_CONFIG", "SUPERVISE_ALLOWED_HOSTS", "SUPERVISE_HOLD_LIMIT", "SUPERVISE_KEEPALIVE",
            "SUPERVISE_EXPIRE_AFTER",
        ]
        let base = Dictionary(uniqueKeysWithValues: cleared.map { ($0, "") }).merging(["NO_COLOR": "1"]) { $1 }
        let merged = base.merging(environment) { $1 }
        let full = try ApplyFixtures.run([BuiltBinary.path] + arguments, environment: merged, timeout: .seconds(30))
        let lean = try ApplyFixtures.run([Self.leanBinary] + arguments, environment: merged, timeout: .seconds(30))
        return (full, lean)
    }

    /// The lean binary's text with its own name spelled as the full binary's, for comparison.
    func renamed(_ text: String) -> String {
        text.replacingOccurrences(of: "bottle-supervise-sidecar", with: "bottle-supervise")
    }

    @Test("its help lists serve and health and none of the host's commands")
    func onlyTheSidecarsCommands() throws {
        let help = try ApplyFixtures.run([Self.leanBinary, "--help"], timeout: .seconds(30))
        #expect(help.status == 0, "\(help.err)")
        #expect(help.out.contains("serve") && help.out.contains("health"), "\(help.out)")
        for host in ["console", "approve", "web", "relay", "demo", "ask"] {
            #expect(!help.out.contains("\n  \(host) "), "\(host) in \(help.out)")
        }
        let unknown = try ApplyFixtures.run([Self.leanBinary, "console"], timeout: .seconds(30))
        #expect(unknown.status == 2, "\(unknown.err)")
        // No command at all is a usage error too, as for bottle-supervise: a script must not read success.
        let none = try ApplyFixtures.run([Self.leanBinary], timeout: .seconds(30))
        #expect(none.status == 2)
        #expect(none.err.contains("bottle-supervise: give a command"), "\(none.err)")
    }

    @Test(
        "the same help, messages and exit statuses as bottle-supervise serve and health",
        arguments: [
            ["serve", "--help"], ["health", "--help"], ["--version"], ["serve"], ["serve", "--port", "x"],
            ["serve", "--slug", "web", "--queue-dir", "/nonexistent-queue"], ["health", "--timeout", "-1"],
            ["health", "--port", "1", "--timeout", "0.5"],
        ])
    func sameCommandLine(arguments: [String]) throws {
        let (full, lean) = try both(arguments)
        #expect(lean.status == full.status, "\(arguments): \(lean.err) vs \(full.err)")
        #expect(renamed(lean.out) == full.out, "\(arguments)")
        #expect(renamed(lean.err) == full.err, "\(arguments)")
    }

    @Test("a bad variable is the same usage error, naming it")
    func sameEnvironment() throws {
        let (full, lean) = try both(["serve", "--slug", "web"], environment: ["SUPERVISE_PORT": "ninety"])
        #expect(full.status == 2)
        #expect(lean.status == 2)
        #expect(lean.err.contains("$SUPERVISE_PORT is \"ninety\""), "\(lean.err)")
        #expect(renamed(lean.err) == full.err)
    }

    @Test("over stdio both answer initialize, tools/list and a bad call with the same bytes")
    func sameBytes() throws {
        let queue = scratch.path + "/queue"
        let current = scratch.path + "/current"
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        scratch.write("api.github.com\n", at: "current/allowlist")
        let requests = [
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"pipelock-block","arguments":{}}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"nope"}"#,
            #"{"jsonrpc":"2.0","id":4,"a":1,"\u0061":2}"#,
        ]
        let input = scratch.write(requests.joined(separator: "\n") + "\n", at: "requests.jsonl")
        func answers(_ binary: String) throws -> String {
            let run = try ApplyFixtures.run(
                [
                    "sh", "-c",
                    "exec '\(binary)' serve --stdio --slug web --queue-dir '\(queue)' --current-config '\(current)' < '\(input)'",
                ], timeout: .seconds(30))
            #expect(run.status == 0, "\(run.err)")
            return run.out
        }
        let full = try answers(BuiltBinary.path)
        let lean = try answers(Self.leanBinary)
        let lines = lean.split(separator: "\n")
        #expect(lines.count == 5, "\(lean)")
        // Line for line the same bytes; the tools/call answer may come before or after the next
        // request's (stdio admits a call off its reading loop), so the lines are compared as a set.
        #expect(lines.sorted() == full.split(separator: "\n").sorted())
        #expect(lean.contains(#""name":"pipelock-block""#))
        #expect(lean.contains(#""code":-32601"#))
        #expect(lean.contains(#"duplicate key \"a\""#), "\(lean)")
    }
}
