import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

@Suite struct AuditLogTests {
    let bed: ApplyBed

    init() throws {
        bed = try ApplyBed()
    }

    /// A fresh log in this test's bed holding `count` records.
    func filled(_ count: Int) throws -> ((), AuditLog) {
        let log = AuditLog(path: bed.root.appending("audit-\(UUID().uuidString.prefix(8)).log"))
        for index in 0..<count {
            try log.append(
                AuditRecord(
                    event: .decision, by: "alice", bottle: bed.bottle, file: .routes, tool: .credProxyBlock,
                    id: .generate(), status: index.isMultiple(of: 2) ? "approved" : "rejected", oldSHA256: nil,
                    newSHA256: SHA256Hex.of("\(index)")))
        }
        return ((), log)
    }

    func rewrite(_ log: AuditLog, _ change: (inout [String]) -> Void) throws {
        var lines = try log.lines().map { String(decoding: $0, as: UTF8.self) }
        change(&lines)
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: log.path)
    }

    @Test func chainsEachRecordToTheLineBefore() throws {
        let (_, log) = try filled(3)
        let records = try log.records()
        let lines = try log.lines()
        #expect(records.count == 3)
        #expect(records[0].prev == AuditLog.genesis)
        #expect(records[1].prev == SHA256Hex.of(lines[0]))
        #expect(records[2].prev == SHA256Hex.of(lines[1]))
        #expect(try log.verify() == .intact(records: 3))
        #expect(try log.verify().description == "3 records, chain intact")
    }

    /// The head a fleet relay mirrors: the lines counted, the last one hashed — exactly the `prev`
    /// the next record gets; an empty or missing log is the genesis with no records.
    @Test func headIsWhatTheNextRecordChainsTo() throws {
        let (_, empty) = try filled(0)
        #expect(try empty.head() == AuditHead(head: AuditLog.genesis, records: 0))
        let (_, log) = try filled(3)
        let head = try log.head()
        let lines = try log.lines()
        #expect(head.records == 3 && head.head == SHA256Hex.of(lines[2]))
        let next = try log.append(
            AuditRecord(
                event: .decision, by: "bob", bottle: bed.bottle, file: .routes, tool: .credProxyBlock, id: .generate(),
                status: "approved", oldSHA256: nil, newSHA256: nil))
        #expect(next.prev == head.head)
        #expect(try log.head().records == 4)
    }

    @Test func anEmptyOrMissingLogIsIntact() throws {
        let (_, log) = try filled(0)
        #expect(try log.verify() == .intact(records: 0))
    }

    @Test func detectsAnEditedLineEvenTheLast() throws {
        for target in [1, 4] {
            let (_, log) = try filled(5)
            try rewrite(log) { $0[target] = $0[target].replacingOccurrences(of: "alice", with: "mallory") }
            guard case .broken(let line, let reason) = try log.verify() else {
                Issue.record("edit of line \(target + 1) not detected")
                continue
            }
            #expect(line == target + 1)
            #expect(reason.contains("edited"))
        }
    }

    @Test func detectsAnEditWithARecomputedOwnHash() throws {
        let (_, log) = try filled(4)
        var records = try log.records()
        records[1].status = "approved-by-nobody"
        let forged = try AuditLog.line(for: records[1])
        try rewrite(log) { $0[1] = String(decoding: forged, as: UTF8.self) }
        #expect(
            try log.verify()
                == .broken(line: 3, reason: "its prev does not match line 2: a line was edited, removed or reordered"))
    }

    @Test func detectsARemovedLine() throws {
        let (_, log) = try filled(5)
        try rewrite(log) { $0.remove(at: 2) }
        guard case .broken(let line, _) = try log.verify() else { Issue.record("removal not detected"); return }
        #expect(line == 3)
        let (_, first) = try filled(3)
        try rewrite(first) { $0.removeFirst() }
        guard case .broken(1, let reason) = try first.verify() else {
            Issue.record("removal of line 1 not detected"); return
        }
        #expect(reason.contains("removed"))
    }

    @Test func detectsReorderedLines() throws {
        let (_, log) = try filled(5)
        try rewrite(log) { $0.swapAt(1, 2) }
        guard case .broken(let line, _) = try log.verify() else { Issue.record("reorder not detected"); return }
        #expect(line == 2)
    }

    @Test func concurrentAppendsKeepOneChain() async throws {
        let log = AuditLog(queueRoot: bed.queueRoot)
        let bottle = bed.bottle
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try log.append(
                        AuditRecord(
                            event: .rollback, by: "op\(index)", bottle: bottle, file: .allowlist, tool: nil, id: nil,
                            status: "applied", oldSHA256: nil, newSHA256: nil))
                }
            }
            try await group.waitForAll()
        }
        #expect(try log.verify() == .intact(records: 64))
    }

    @Test func appendAndVerifyStayFastAtAThousandRecords() throws {
        let log = AuditLog(path: bed.root.appending("timed.log"))
        let clock = ContinuousClock()
        var appends: [Duration] = []
        for _ in 0..<1000 {
            let start = clock.now
            try log.append(
                AuditRecord(
                    event: .apply, by: "alice", bottle: bed.bottle, file: .routes, tool: .credProxyBlock,
                    id: .generate(),
                    status: "applied", oldSHA256: SHA256Hex.of("a"), newSHA256: SHA256Hex.of("b"),
                    apply: ApplyOutcome(state: .applied, summary: "applied: wrote routes.json and ran true")))
            appends.append(clock.now - start)
        }
        appends.sort()
        let start = clock.now
        #expect(try log.verify() == .intact(records: 1000))
        let verify = clock.now - start
        print(
            "audit append (flock + fsync): median \(appends[500]), worst \(appends[999]); verify 1000 records: \(verify)"
        )
        #expect(verify < .seconds(2))
    }
}
