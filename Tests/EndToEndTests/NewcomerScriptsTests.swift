import Foundation
import Testing

/// What a newcomer runs first: `scripts/install`, `scripts/test`'s end, and the demo's closing lines.
@Suite("A newcomer's first commands: install, test, demo", .serialized)
struct NewcomerScriptsTests {
    let scratch = Scratch()

    @Test("scripts/install puts the binary at PREFIX/bin and says how to reach it when that is not on the PATH")
    func install() throws {
        let prefix = scratch.path + "/prefix with space"
        let run = try ApplyFixtures.run(
            [PythonClient.repoRoot + "/scripts/install"],
            environment: ["PREFIX": prefix, "SUPERVISE_INSTALL_BINARY": BuiltBinary.path, "PATH": "/usr/bin:/bin"],
            timeout: .seconds(60))
        #expect(run.status == 0, "\(run.out)\(run.err)")
        let installed = prefix + "/bin/bottle-supervise"
        #expect(FileManager.default.isExecutableFile(atPath: installed))
        #expect(run.out.contains("installed \(installed)"), "\(run.out)")
        #expect(run.out.contains("export PATH=\"\(prefix)/bin:$PATH\""), "\(run.out)")
        let version = try ApplyFixtures.run([installed, "--version"])
        #expect(version.status == 0)
        #expect(!version.out.isEmpty)
        // On the PATH already: nothing to add.
        let again = try ApplyFixtures.run(
            [PythonClient.repoRoot + "/scripts/install"],
            environment: ["PREFIX": prefix, "SUPERVISE_INSTALL_BINARY": BuiltBinary.path, "PATH": "\(prefix)/bin:/usr/bin:/bin"],
            timeout: .seconds(60))
        #expect(again.status == 0, "\(again.err)")
        #expect(!again.out.contains("export PATH"), "\(again.out)")

        let missing = try ApplyFixtures.run(
            [PythonClient.repoRoot + "/scripts/install"],
            environment: ["PREFIX": prefix, "SUPERVISE_INSTALL_BINARY": scratch.path + "/no-such-binary"])
        #expect(missing.status == 1)
        #expect(missing.err.contains("scripts/install: \(scratch.path)/no-such-binary is not an executable file"), "\(missing.err)")
    }

    /// A copy of scripts/test beside a stand-in `swift` (exit `swiftStatus`) and `scripts/fuzz`
    /// (records that it ran, exit `fuzzStatus`), and Python environments that import anything.
    func runTestScript(swiftStatus: Int, fuzzStatus: Int, arguments: [String] = []) throws
        -> (status: Int32, out: String, err: String, fuzzed: Bool)
    {
        let relative = "repo-\(swiftStatus)-\(fuzzStatus)-\(arguments.count)"
        let root = scratch.path + "/" + relative
        let script = try String(contentsOfFile: PythonClient.repoRoot + "/scripts/test", encoding: .utf8)
        scratch.write(script, at: relative + "/scripts/test", executable: true)
        let marker = root + "/fuzzed"
        scratch.write("#!/bin/sh\necho \"$@\" > '\(marker)'\nexit \(fuzzStatus)\n", at: relative + "/scripts/fuzz", executable: true)
        for venv in [".venv", ".venv-mcp1", ".venv-mcp19"] {
            scratch.write("#!/bin/sh\nexit 0\n", at: relative + "/\(venv)/bin/python", executable: true)
        }
        let bin = root + "/fake-bin"
        scratch.write(
            "#!/bin/sh\necho swift \"$@\" \"(width ${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-none})\"\nexit \(swiftStatus)\n",
            at: relative + "/fake-bin/swift", executable: true)
        let run = try ApplyFixtures.run(
            [root + "/scripts/test"] + arguments,
            environment: ["PATH": "\(bin):/usr/bin:/bin", "SUPERVISE_FUZZ_SECONDS": "1"], timeout: .seconds(60))
        return (run.status, run.out, run.err, FileManager.default.fileExists(atPath: marker))
    }

    @Test("scripts/test: the fuzz step runs after a failed swift test, and the run still fails with its status")
    func fuzzAfterFailure() throws {
        let failed = try runTestScript(swiftStatus: 1, fuzzStatus: 0)
        #expect(failed.fuzzed, "the fuzz targets did not run: \(failed.out)\(failed.err)")
        #expect(failed.status == 1, "\(failed.out)\(failed.err)")
        #expect(failed.err.contains("swift test failed (exit 1); the fuzz targets run anyway"), "\(failed.err)")

        let fuzzFailed = try runTestScript(swiftStatus: 0, fuzzStatus: 3)
        #expect(fuzzFailed.fuzzed)
        #expect(fuzzFailed.status == 3, "\(fuzzFailed.err)")

        let passed = try runTestScript(swiftStatus: 0, fuzzStatus: 0)
        #expect(passed.fuzzed)
        #expect(passed.status == 0, "\(passed.out)\(passed.err)")

        let narrowed = try runTestScript(swiftStatus: 1, fuzzStatus: 0, arguments: ["--filter", "X"])
        #expect(!narrowed.fuzzed, "a --filter run skips the fuzz step")
        #expect(narrowed.status == 1)
    }

    @Test("scripts/test: one build, the unit tests side by side, then the end-to-end tests one at a time; each filtered alike")
    func oneBuildTwoRuns() throws {
        let run = try runTestScript(swiftStatus: 0, fuzzStatus: 0, arguments: ["--filter", "X"])
        #expect(run.status == 0, "\(run.out)\(run.err)")
        let invocations = run.out.split(separator: "\n").filter { $0.hasPrefix("swift ") }
        let width = 2 * ProcessInfo.processInfo.activeProcessorCount
        #expect(
            invocations == [
                "swift build --build-tests (width none)",
                "swift test --skip-build --skip ^EndToEndTests\\. --filter X (width \(width))",
                "swift test --skip-build --no-parallel --skip ^(?!EndToEndTests\\.) --filter X (width none)",
            ], "\(run.out)")
    }

    @Test("demo: a temporary state is removed at the end; the closing lines' commands work as printed")
    func demoCleansUpAndPrintsWorkingCommands() throws {
        let temporary = scratch.path + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        // bottle-supervise is not on this PATH: the lines name this binary by its path.
        let run = try ApplyFixtures.run(
            ["sh", "-c", "echo a | '\(BuiltBinary.path)' demo --no-tui"],
            environment: ["TMPDIR": temporary, "PATH": "/usr/bin:/bin", "NO_COLOR": "1"], timeout: .seconds(120))
        #expect(run.status == 0, "\(run.out)\(run.err)")
        #expect(run.out.contains("status: approved"), "\(run.out)")
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(run.out.contains("temporary state is removed"), "\(run.out)")
        #expect(run.out.contains("scripts/install"), "\(run.out)")

        let state = scratch.path + "/demo state"
        let kept = try ApplyFixtures.run(
            ["sh", "-c", "echo a | \"$0\" demo --no-tui --state-dir \"$1\"", BuiltBinary.path, state],
            environment: ["PATH": "/usr/bin:/bin", "NO_COLOR": "1"], timeout: .seconds(120))
        #expect(kept.status == 0, "\(kept.out)\(kept.err)")
        let printed = kept.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("'") || $0.hasPrefix("/") }
        #expect(printed.count == 2, "the list and log commands: \(kept.out)")
        for line in printed {
            let again = try ApplyFixtures.run(["sh", "-c", line], environment: ["PATH": "/usr/bin:/bin", "NO_COLOR": "1"])
            #expect(again.status == 0, "`\(line)`: \(again.err)")
            #expect(again.out.contains("pipelock-block") || again.out.contains("approved"), "`\(line)`: \(again.out)")
        }
    }
}
