import FileAccess
import Foundation
import Queue
import Synchronization
import SystemPackage
import Testing

@testable import Apply

/// A clock whose sleeps only move its time forward: a 30-second wait takes none.
final class SteppingClock: ReplacementClock, @unchecked Sendable {
    private let lock = NSLock()
    private var elapsed: Duration = .zero
    var now: Duration { lock.withLock { elapsed } }
    func sleep(for duration: Duration) { lock.withLock { elapsed += duration } }
}

/// The replacement's order of engine calls and every way back, against ``FakeEngine``.
@Suite struct ContainerReplacementSequenceTests {
    let directory: FilePath

    init() throws {
        directory = FilePath(NSTemporaryDirectory()).appending("replacement-\(UUID().uuidString.prefix(8))")
        try AtomicFile.makeDirectory(directory)
    }

    var journal: FilePath { ReplacementJournal.path(in: directory) }

    func replacement(_ engine: FakeEngine) -> ContainerReplacement {
        ContainerReplacement(
            engine: "podman",
            target: ContainerReplacement.Target(
                container: "bot1", image: "localhost/bot1:supervise", dockerfile: "/cfg/bot1/Dockerfile",
                context: "/cfg/bot1"),
            runner: engine, clock: SteppingClock(), journalPath: journal, buildTimeout: .seconds(600),
            suffix: "abc123")
    }

    @Test("a journal that is a symlink or a FIFO is refused, never followed nor waited on")
    func journalIsARegularFile() throws {
        let elsewhere = directory.appending("elsewhere.json")
        try AtomicFile.write(Data(#"{"engine":"sh"}"#.utf8), to: elsewhere)
        #expect(symlink(elsewhere.string, journal.string) == 0)
        #expect(throws: FileAccessError.self) { try ReplacementJournal.read(journal) }
        #expect(unlink(journal.string) == 0)
        #expect(mkfifo(journal.string, 0o600) == 0)
        let outcome = Mutex<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let refused = (try? ReplacementJournal.read(self.journal)) == nil
            outcome.withLock { $0 = refused }
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            // Deadline: release a reader stuck in open(2) on the FIFO, then fail.
            let writer = open(journal.string, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = done.wait(timeout: .now() + 10)
            Issue.record("reading the journal blocked on a FIFO")
        }
        #expect(outcome.withLock { $0 } == true)
    }

    @Test func buildsCreatesBesideStopsSwapsNamesStartsWatchesThenRemovesTheOld() throws {
        let engine = FakeEngine()
        let outcome = replacement(engine).run()
        #expect(outcome.succeeded, "\(outcome.summary)")
        #expect(
            engine.verbs == [
                // Inspected before the build (fail early) and after it (what is carried over);
                // watching: up at once, and still up (same restart count) when the settle time is over.
                "inspect", "image inspect", "build", "inspect", "image inspect", "create", "stop", "rename",
                "rename", "start", "inspect", "inspect", "rm",
            ])
        let recorded = engine.recorded
        // Built on the bottle's own network, the id written to a file beside the journal.
        #expect(
            recorded[2] == [
                "podman", "build", "-t", "localhost/bot1:supervise", "--iidfile",
                directory.appending(".replacement-image-id").string, "--network=bsnet", "-f", "/cfg/bot1/Dockerfile",
                "/cfg/bot1",
            ])
        #expect(recorded[3] == ["podman", "inspect", "--type", "container", "bot1"])
        #expect(recorded[6] == ["podman", "stop", "-t", "10", FakeEngine.oldID])
        #expect(recorded[7] == ["podman", "rename", FakeEngine.oldID, "bot1-old-abc123"])
        #expect(recorded[8].suffix(1) == ["bot1"])
        #expect(recorded.last == ["podman", "rm", FakeEngine.oldID])  // no -v: anonymous volumes stay
        // One container is left: the new one, under the bottle's name, running the new image.
        let containers = engine.all
        #expect(containers.count == 1)
        let new = try #require(engine.container(named: "bot1"))
        #expect(new.running && new.id != FakeEngine.oldID && new.image != FakeEngine.oldImageID)
        #expect(new.createdWith.contains("--name=bot1-next-abc123"))
        // Created from the image this build made (its id), not the tag another build could move.
        #expect(!new.createdWith.contains("localhost/bot1:supervise"))
        #expect(new.createdWith.contains(new.image) && new.image.hasPrefix("bbbb"))
        #expect(!FileManager.default.fileExists(atPath: journal.string))
        #expect(outcome.summary.hasPrefix("built localhost/bot1:supervise and replaced container bot1"))
    }

    @Test func aFailedBuildTouchesNothing() {
        let engine = FakeEngine()
        engine.failing = {
            $0.first == "build"
                ? .init(status: 1, output: "STEP 2/2: RUN false\nError: building at STEP \"RUN false\": exit status 1")
                : nil
        }
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(engine.verbs == ["inspect", "image inspect", "build"])
        #expect(
            outcome.summary
                == "building localhost/bot1:supervise failed: podman exited with status 1: "
                + "Error: building at STEP \"RUN false\": exit status 1; the bottle's container was not touched")
        #expect(engine.all.count == 1 && engine.all[0].running && engine.all[0].name == "bot1")
    }

    @Test func theContainerIsReadAgainAfterTheBuild() throws {
        let engine = FakeEngine()
        // The operator stopped the bottle while the image was building: the replacement stays stopped.
        engine.afterBuild = { engine in
            _ = engine.run(["podman", "stop", FakeEngine.oldID], timeout: .seconds(1), keepOutput: false)
        }
        let outcome = replacement(engine).run()
        #expect(outcome.succeeded, "\(outcome.summary)")
        #expect(!engine.verbs.dropFirst(3).contains("start"))
        #expect(engine.container(named: "bot1")?.running == false)
    }

    @Test func aMissingContainerIsNotBuiltFor() {
        let engine = FakeEngine()
        var replacement = replacement(engine)
        replacement = ContainerReplacement(
            engine: "podman",
            target: .init(container: "nope", image: "i", dockerfile: "/d", context: "/c"), runner: engine,
            clock: SteppingClock(), journalPath: journal, buildTimeout: .seconds(1))
        let outcome = replacement.run()
        #expect(!outcome.succeeded)
        #expect(engine.verbs == ["inspect"])
        #expect(outcome.summary.hasPrefix("there is no container nope to replace: podman exited with status 125: Error: no such container nope"))
        #expect(outcome.summary.hasSuffix("; nothing was built or changed"))
    }

    @Test func aFailedCreateRemovesTheHalfMadeOneAndLeavesTheOldRunning() {
        let engine = FakeEngine()
        engine.failing = { $0.first == "create" ? .init(status: 125, output: "Error: invalid --cap-add") : nil }
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(engine.recorded.last == ["podman", "rm", "-f", "bot1-next-abc123"])
        #expect(!engine.verbs.contains("stop"))
        #expect(outcome.summary.contains("creating the new container failed: podman exited with status 125: Error: invalid --cap-add"))
        #expect(engine.all.map(\.name) == ["bot1"] && engine.all[0].running)
        #expect(!FileManager.default.fileExists(atPath: journal.string))
    }

    @Test func aFailedStartBringsTheOldBackUnderItsName() throws {
        let engine = FakeEngine()
        engine.failing = { arguments in
            arguments.first == "start" && arguments.last != FakeEngine.oldID
                ? .init(status: 127, output: "Error: runc: exec: \"/busybox\": no such file or directory") : nil
        }
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(outcome.summary.hasPrefix("starting the new container failed: podman exited with status 127: Error: runc: exec:"))
        #expect(outcome.summary.hasSuffix("; the old container is running again"))
        let old = try #require(engine.container(named: "bot1"))
        #expect(old.id == FakeEngine.oldID && old.running)
        #expect(engine.all.count == 1)
        #expect(!FileManager.default.fileExists(atPath: journal.string))
        // The way back: remove the new, give the old its name back, start it.
        #expect(
            Array(engine.verbs.suffix(3)) == ["rm", "rename", "start"])
    }

    @Test func aNewContainerThatExitsAtOnceIsReplacedByTheOldAgain() throws {
        let engine = FakeEngine()
        engine.newContainersExit = 127
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(
            outcome.summary
                == "the new container stopped within 1.0 s of starting (exited, exit code 127): sh: /missing-entrypoint: not found; "
                + "the old container is running again")
        #expect(try #require(engine.container(named: "bot1")).id == FakeEngine.oldID)
        #expect(engine.all.count == 1)
    }

    @Test func aNewContainerThatCrashesWithinTheSettleTimeIsRolledBack() throws {
        let engine = FakeEngine()
        engine.newContainersCrashAfterInspects = 1  // up when started, gone a second later
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(outcome.summary.hasPrefix("the new container stopped within 1.0 s of starting (exited, exit code 1)"))
        #expect(try #require(engine.container(named: "bot1")).id == FakeEngine.oldID)
        #expect(engine.container(named: "bot1")?.running == true)
        #expect(engine.all.count == 1)
    }

    @Test func aStoppedBottleIsReplacedButNotStarted() throws {
        let engine = FakeEngine(running: false)
        let outcome = replacement(engine).run()
        #expect(outcome.succeeded)
        #expect(!engine.verbs.contains("stop") && !engine.verbs.contains("start"))
        let new = try #require(engine.container(named: "bot1"))
        #expect(!new.running && new.id != FakeEngine.oldID)
    }

    @Test func anEngineThatDiesMidSwapLeavesAJournalThatTheNextRunUndoes() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "stop" }  // the host lost the engine right after stopping the old one
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(outcome.summary.contains("putting the old container back failed too"))
        #expect(outcome.summary.hasSuffix("the next bottle-supervise command tries again"))
        let written = try #require(try ReplacementJournal.read(journal))
        #expect(written.phase == .swapping && written.oldID == FakeEngine.oldID && written.newID != nil)
        #expect(engine.container(named: "bot1")?.running == false)  // the bottle is down

        // The next host command, with the engine back.
        let healthy = FakeEngine.resuming(engine)
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: healthy)
        #expect(
            recovery
                == .restoredOld(
                    "the interrupted replacement of container bot1 was undone: the old container runs again"))
        let old = try #require(healthy.container(named: "bot1"))
        #expect(old.id == FakeEngine.oldID && old.running)
        #expect(healthy.all.count == 1)
        #expect(!FileManager.default.fileExists(atPath: journal.string))
        #expect(ContainerReplacement.recover(journalPath: journal, runner: healthy) == nil)
    }

    @Test func aCrashAfterTheSwapWasVerifiedKeepsTheNewContainer() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "start" }
        _ = replacement(engine).run()
        let healthy = FakeEngine.resuming(engine)
        // The old container was removed by hand (or the crash came after rm): only the new is left.
        _ = healthy.run(["podman", "rm", "-f", FakeEngine.oldID], timeout: .seconds(1), keepOutput: false)
        var written = try #require(try ReplacementJournal.read(journal))
        written.phase = .removingOld
        try written.write(to: journal)
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: healthy)
        #expect(
            recovery == .keptNew("the interrupted replacement of container bot1 was finished: the new container runs"))
        let new = try #require(healthy.container(named: "bot1"))
        #expect(new.id == written.newID && new.running)
    }

    @Test func recoveryFindingBothContainersGoneAndTheNameTakenDropsTheJournal() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "stop" }
        _ = replacement(engine).run()
        // The operator cleaned up by hand and started a bottle of their own under the name.
        let healthy = FakeEngine.resuming(engine)
        for container in healthy.all {
            _ = healthy.run(["podman", "rm", "-f", container.id], timeout: .seconds(1), keepOutput: false)
        }
        _ = healthy.run(["podman", "create", "--name=bot1", "img"], timeout: .seconds(1), keepOutput: true)
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: healthy)
        #expect(recovery?.summary.contains("left nothing to undo") == true, "\(String(describing: recovery))")
        #expect(!FileManager.default.fileExists(atPath: journal.string))
        #expect(healthy.all.count == 1)  // theirs, untouched
    }

    @Test func recoveryThatCannotReachTheEngineKeepsTheJournal() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "stop" }
        _ = replacement(engine).run()
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: engine)  // still dead
        guard case .failed(let text)? = recovery else { Issue.record("expected a failed recovery"); return }
        #expect(text.contains("can be inspected"))
        #expect(FileManager.default.fileExists(atPath: journal.string))
    }
}

extension FakeEngine {
    /// A healthy engine holding the containers `engine` had when it died.
    static func resuming(_ engine: FakeEngine) -> FakeEngine {
        let healthy = FakeEngine()
        healthy.replaceContainers(with: engine.all)
        return healthy
    }
}
