import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import FileAccess

@Suite("Atomic files")
struct AtomicFileTests {
    @Test("a reader racing a writer only ever sees whole files")
    func noTornReads() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path.appending("record.json")
        // Two versions of very different sizes, so a torn read would show as a mix or a prefix.
        let small = Data(repeating: UInt8(ascii: "a"), count: 10)
        let large = Data(repeating: UInt8(ascii: "b"), count: 512 << 10)
        try AtomicFile.write(small, to: path)
        let done = Atomic<Bool>(false)
        let writer = Task.detached {
            for round in 0..<100 { try AtomicFile.write(round.isMultiple(of: 2) ? large : small, to: path) }
            done.store(true, ordering: .sequentiallyConsistent)
        }
        var reads = 0
        while !done.load(ordering: .sequentiallyConsistent) {
            let data = try #require(try AtomicFile.read(path))
            #expect(data == small || data == large, "read \(data.count) bytes: a torn file")
            reads += 1
        }
        try await writer.value
        #expect(reads > 0)
        let leftovers = try DirectoryListing.names(in: directory.path).filter { $0 != "record.json" }
        #expect(leftovers.isEmpty, "temp files left behind: \(leftovers)")
    }

    @Test("of many concurrent exclusive creates exactly one succeeds, and the file is that one's")
    func exclusiveCreate() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path.appending("decision.json")
        let winners = await withTaskGroup(of: Int?.self) { group in
            for contender in 0..<64 {
                group.addTask {
                    (try? AtomicFile.create(Data("\(contender)".utf8), at: path)) == true ? contender : nil
                }
            }
            return await group.reduce(into: [Int]()) { if let winner = $1 { $0.append(winner) } }
        }
        #expect(winners.count == 1)
        let content = try #require(try AtomicFile.read(path))
        #expect(String(decoding: content, as: UTF8.self) == "\(winners[0])")
    }

    @Test("stale temp files are cleaned, a live writer's young one is kept")
    func staleTempFiles() throws {
        let directory = TemporaryDirectory()
        let stale = directory.file(".x.proposal.json.1234.tmp", "partial")
        let young = directory.file(".y.proposal.json.5678.tmp", "partial")
        var old = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, stale.string, &old, 0) == 0)
        let removed = try AtomicFile.removeStaleTempFiles(in: directory.path)
        #expect(removed == [".x.proposal.json.1234.tmp"])
        #expect(try AtomicFile.read(young) != nil)
    }

    @Test("reading a missing file is nil, not an error")
    func missing() throws {
        let directory = TemporaryDirectory()
        #expect(try AtomicFile.read(directory.path.appending("nope")) == nil)
    }
}
