import Eventually
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
        // The timeout is the behaviour under test, so it is real time: long enough for the shell
        // to start its child and write the marker on a loaded machine, far short of the 30 s sleep.
        let run = await ReloadRunner.run(
            ["sh", "-c", "sleep 30 & echo $! > \(marker); wait"], timeout: .seconds(3))
        #expect(clock.now - start < .seconds(25), "a 3 s timeout must not wait for the 30 s sleep")
        #expect(run.timedOut)
        #expect(run.failureReason?.contains("timed out") == true)
        let grandchild = try #require(
            Int32(String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed with its group, though reaped by whoever inherits it: wait for that, not for a time.
        try await eventually("the background child of the reload command is gone after the timeout") {
            !Self.isRunning(grandchild)
        }
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
