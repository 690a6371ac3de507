import FileAccess
import Foundation
import SystemPackage
import Testing

@testable import Queue

@Suite("Group commit")
struct GroupCommitTests {
    @Test("many concurrent commits all land whole, each caller's steps in its order, no temp file left")
    func concurrent() async throws {
        let directory = TemporaryDirectory()
        let archive = directory.path.appending("archive")
        try AtomicFile.makeDirectory(archive)
        let commit = GroupCommit()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    let live = directory.path.appending("f\(index)")
                    // Created, then moved: the move only works if the creation came first.
                    try await commit.commit([
                        .create(Data("content \(index)\n".utf8), at: live),
                        .move(live, to: archive.appending("f\(index)")),
                    ])
                }
            }
            try await group.waitForAll()
        }
        for index in 0..<500 {
            let data = try #require(try AtomicFile.read(archive.appending("f\(index)")))
            #expect(String(decoding: data, as: UTF8.self) == "content \(index)\n")
        }
        #expect(try DirectoryListing.names(in: directory.path) == ["archive"])
    }

    @Test("one caller's failing step fails that caller only")
    func failureIsolated() async throws {
        let directory = TemporaryDirectory()
        let commit = GroupCommit()
        let good = Task { try await commit.commit([.create(Data("ok".utf8), at: directory.path.appending("good"))]) }
        let bad = Task {
            try await commit.commit([
                .move(directory.path.appending("missing"), to: directory.path.appending("elsewhere"))
            ])
        }
        try await good.value
        await #expect(throws: QueueError.self) { try await bad.value }
        #expect(try AtomicFile.read(directory.path.appending("good")) == Data("ok".utf8))
    }
}
