import Foundation
import SystemPackage
import Testing

@testable import Sidecar

/// What `serve` finds wrong with its queue directory before it takes a call.
/// (Permission denials need a non-root user: the end-to-end ServeStartTests
/// run the binary as uid 10001 for those.)
@Suite struct QueueDirectoryCheckTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("qdc-\(UUID().uuidString.prefix(8))").path

    init() throws { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }

    @Test func aGivenDirectoryIsUsedAsGiven() throws {
        #expect(try QueueDirectoryCheck.resolve(given: root) == FilePath(root))
    }

    @Test(
        "no directory given, and no container default here: a usage error naming the flag and variable",
        .enabled(if: access("/run/supervise/queue", F_OK) != 0, "this machine has /run/supervise/queue"))
    func noDefaultOnAHost() {
        for given in [nil, ""] as [String?] {
            #expect(throws: QueueDirectoryCheck.Problem.noDirectoryGiven) { try QueueDirectoryCheck.resolve(given: given) }
        }
        #expect(QueueDirectoryCheck.Problem.noDirectoryGiven.isUsageError)
        #expect(QueueDirectoryCheck.Problem.noDirectoryGiven.description.contains("--queue-dir DIR or set SUPERVISE_QUEUE_DIR"))
        #expect(access("/run/supervise/queue", F_OK) != 0, "nothing was created")
    }

    @Test func aMissingDirectoryIsNotCreated() {
        let missing = FilePath(root + "/typo/web")
        #expect(throws: QueueDirectoryCheck.Problem.missing(missing)) { try QueueDirectoryCheck.check(missing) }
        #expect(access(missing.string, F_OK) != 0)
        #expect(!QueueDirectoryCheck.Problem.missing(missing).isUsageError)
    }

    @Test func aFileIsNotADirectory() throws {
        let file = root + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: QueueDirectoryCheck.Problem.notADirectory(FilePath(file))) {
            try QueueDirectoryCheck.check(FilePath(file))
        }
    }

    @Test func aWritableDirectoryPassesAndKeepsNothingOfTheCheck() throws {
        try FileManager.default.createDirectory(atPath: root + "/archive", withIntermediateDirectories: true)
        try QueueDirectoryCheck.check(FilePath(root))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["archive"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/archive").isEmpty)
    }

    @Test("the message names the directory, the sidecar's uid, the owner and the command that fixes it")
    func notWritableMessage() {
        let problem = QueueDirectoryCheck.Problem.notWritable(
            QueueDirectoryCheck.containerDefault, reason: "permission denied", owner: 0, group: 0, mode: 0o40755,
            user: 10001, userGroup: 10001)
        let text = problem.description
        #expect(text.contains("/run/supervise/queue is not writable for this sidecar, which runs as uid 10001 (gid 10001)"))
        #expect(text.contains("uid 0, gid 0, mode 0755"))
        #expect(text.contains("sudo chown -R 10001:10001"))
        #expect(text.contains("-v ~/.claude-bottle/queue/<slug>:/run/supervise/queue"), "the image's own mount point: no mount?")
        let readOnly = QueueDirectoryCheck.Problem.notWritable(
            FilePath("/q"), reason: "it is on a read-only mount", owner: 10001, group: 10001, mode: 0o40755,
            user: 10001, userGroup: 10001)
        #expect(readOnly.description.contains("Mount it read-write (no :ro)"))
        #expect(!readOnly.description.contains("chown"))
    }
}
