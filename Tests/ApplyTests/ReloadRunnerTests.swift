import Foundation
import Testing

@testable import Apply

@Suite struct ReloadRunnerTests {
    @Test func keepsExitStatusAndOutputWithoutAShell() async {
        let run = await ReloadRunner.run(
            ["sh", "-c", "echo out; echo err >&2; exit 3", "$(touch /tmp/x)"], timeout: .seconds(5))
        #expect(run.exitStatus == 3)
        #expect(run.outputTail == "out\nerr")
        #expect(run.failureReason == "sh exited with status 3: err")
        let literal = await ReloadRunner.run(["echo", "$(id)", "; reboot", "`id`"], timeout: .seconds(5))
        #expect(literal.succeeded)
        #expect(literal.outputTail == "$(id) ; reboot `id`")
    }

    @Test("a failure names the output's last non-empty line, escaped and cut to its end, since the status alone rarely says why")
    func failureNamesTheLastOutputLine() async throws {
        let run = await ReloadRunner.run(
            ["sh", "-c", #"echo starting; printf 'Error: no container named \033[31mweb\n\n  \n'; exit 125"#],
            timeout: .seconds(5))
        #expect(run.failureReason == #"sh exited with status 125: Error: no container named \e[31mweb"#)
        let long = await ReloadRunner.run(["sh", "-c", "printf '%0500d\\n' 0; exit 1"], timeout: .seconds(5))
        // A long line keeps its end, where engines put the cause: 300 characters, the first an ellipsis.
        let line = try #require(long.failureReason?.split(separator: ": ", maxSplits: 1).last)
        #expect(line.count == 300 && line.hasPrefix("…") && line.hasSuffix("0000"), "\(long.failureReason ?? "")")
        let silent = await ReloadRunner.run(["sh", "-c", "exit 2"], timeout: .seconds(5))
        #expect(silent.failureReason == "sh exited with status 2")
    }

    @Test func aMissingProgramIsAFailureNotACrash() async {
        let run = await ReloadRunner.run(["no-such-program-for-bottle-supervise"], timeout: .seconds(5))
        #expect(!run.succeeded)
        #expect(run.failureReason?.hasPrefix("could not start no-such-program-for-bottle-supervise") == true)
    }

    @Test func keepsOnlyTheLastFortyLinesAndFourKiB() async {
        let lines = await ReloadRunner.run(["seq", "1", "1000"], timeout: .seconds(5))
        #expect(lines.outputTail.split(separator: "\n").count == 40)
        #expect(lines.outputTail.hasSuffix("1000"))
        let bytes = await ReloadRunner.run(["head", "-c", "100000", "/dev/zero"], timeout: .seconds(5))
        #expect(bytes.outputTail.utf8.count <= 4096)
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let marker = NSTemporaryDirectory() + "grandchild-\(UUID().uuidString.prefix(8))"
        let clock = ContinuousClock()
        let start = clock.now
        let run = await ReloadRunner.run(
            ["sh", "-c", "sleep 30 & echo $! > \(marker); wait"], timeout: .milliseconds(300))
        #expect(clock.now - start < .seconds(20), "a 300 ms timeout must not wait for the 30 s sleep")
        #expect(run.timedOut)
        #expect(run.failureReason?.contains("timed out") == true)
        let grandchild = try #require(
            Int32(String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<300 where alive {
            alive = Self.isRunning(grandchild)
            if alive { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(!alive, "the background child of the reload command survived the timeout")
        try? FileManager.default.removeItem(atPath: marker)
    }

    /// Whether `pid` is a live process (a zombie waiting for its reaper is not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
