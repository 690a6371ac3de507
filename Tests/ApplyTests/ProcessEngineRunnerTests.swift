import Testing

@testable import Apply

/// The real engine runner keeps a command's standard output apart (inspect's
/// JSON, create's id), whole up to its limit, with standard error as the tail.
@Suite struct ProcessEngineRunnerTests {
    @Test func standardOutputIsKeptApartFromTheErrorTail() {
        let run = ProcessEngineRunner().run(
            ["sh", "-c", "echo '[{\"Id\": \"abc\"}]'; echo 'WARN: slow storage' >&2"], timeout: .seconds(20),
            keepOutput: true)
        #expect(run.succeeded)
        #expect(run.standardOutput == "[{\"Id\": \"abc\"}]\n")
        #expect(run.outputTail == "WARN: slow storage")
        #expect(!run.standardOutputOverflowed)
    }

    @Test func outputOverTheLimitIsFlaggedNotSilentlyCut() {
        let run = ReloadRunner.runBlocking(
            ["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"], timeout: .seconds(20), standardOutputLimit: 1000)
        #expect(run.succeeded)
        #expect(run.standardOutput.utf8.count == 1000)
        #expect(run.standardOutputOverflowed)
    }

    @Test func withoutKeepingOutputBothStreamsMakeTheTail() {
        let run = ProcessEngineRunner().run(
            ["sh", "-c", "echo out; echo err >&2"], timeout: .seconds(20), keepOutput: false)
        #expect(run.standardOutput.isEmpty)
        #expect(run.outputTail.contains("out") && run.outputTail.contains("err"))
    }
}
