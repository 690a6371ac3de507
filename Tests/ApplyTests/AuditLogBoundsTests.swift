import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// The audit log stays cheap and honest whatever was written into it.
@Suite("Audit log bounds")
struct AuditLogBoundsTests {
    let bed: ApplyBed

    init() throws {
        bed = try ApplyBed()
    }

    func record(_ index: Int = 0, newSHA256: String? = nil) -> AuditRecord {
        AuditRecord(
            event: .decision, by: "alice", bottle: bed.bottle, file: .allowlist, tool: .pipelockBlock, id: .generate(),
            status: "approved", oldSHA256: nil, newSHA256: newSHA256 ?? SHA256Hex.of("\(index)"))
    }

    func log(_ name: String) -> AuditLog {
        AuditLog(path: bed.root.appending("\(name)-\(UUID().uuidString.prefix(8)).log"))
    }

    func appendRaw(_ bytes: Data, to log: AuditLog) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path.string))
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    @Test("a 16 MiB line planted at the end: the next append reads none of it, chains to a marker, and verify names the line")
    func oversizedLastLine() throws {
        let log = log("hostile")
        try log.append(record(1))
        let hostile = Data(#"{"hash":""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: 16 << 20) + Data("\n".utf8)
        try appendRaw(hostile, to: log)
        let clock = ContinuousClock()
        let started = clock.now
        let written = try log.append(record(2))
        // Generous (the goal, measured in bench/audit-append.sh, is 20 ms): hashing 16 MiB
        // in a debug build takes far longer than this.
        #expect(started.duration(to: clock.now) < .milliseconds(500))
        #expect(written.prev == AuditLog.oversizedPrevious)
        let verification = try log.verify()
        guard case .broken(let line, let reason) = verification else {
            Issue.record("verify passed a log with a planted 16 MiB line")
            return
        }
        #expect(line == 2)
        #expect(reason.contains("longer than the 65536"))
        #expect(throws: QueueError.self) { try log.records() }
        // The record after the planted line is intact and readable on its own.
        let last = try log.lines().last!
        guard case .success(let decoded) = AuditLog.decode(last) else {
            Issue.record("the record appended after the planted line does not decode")
            return
        }
        #expect(decoded.status == "approved")
    }

    @Test("reading the last line looks at no more than the cap from the end, for any file")
    func lastLineIsBounded() throws {
        let log = log("bounded")
        try log.append(record(1))
        let fd = open(log.path.string, O_RDONLY)
        defer { close(fd) }
        guard case .line(let line, terminated: true) = try log.lastLine(fd) else {
            Issue.record("a normal log's last line was not read")
            return
        }
        #expect(line == (try log.lines()).last)
        // Exactly at the cap is still a line; one byte more is not.
        for (length, readable) in [(AuditLog.maximumLineLength, true), (AuditLog.maximumLineLength + 1, false)] {
            let other = self.log("cap")
            try AtomicFile.write(Data(repeating: UInt8(ascii: "x"), count: length) + Data("\n".utf8), to: other.path)
            let descriptor = open(other.path.string, O_RDONLY)
            defer { close(descriptor) }
            let result = try other.lastLine(descriptor)
            if readable {
                #expect(result == .line(Data(repeating: UInt8(ascii: "x"), count: length), terminated: true))
            } else {
                #expect(result == .oversized(terminated: true))
            }
        }
    }

    @Test("a torn last line (no newline) stays its own line: the next record starts a new one and verify names the torn one")
    func tornLastLine() throws {
        let log = log("torn")
        try log.append(record(1))
        try appendRaw(Data(#"{"hash":"abc"#.utf8), to: log)
        try log.append(record(2))
        let lines = try log.lines()
        #expect(lines.count == 3)
        #expect(try log.verify() == .broken(line: 2, reason: "not an audit record (no leading hash)"))
        guard case .success(let third) = AuditLog.decode(lines[2]) else {
            Issue.record("the record after a torn line was glued to it")
            return
        }
        #expect(third.prev == SHA256Hex.of(lines[1]))
    }

    @Test("a record longer than the cap (an 8 MiB forged hash field) is refused, and the log is unchanged")
    func oversizedRecordRefused() throws {
        let log = log("forged")
        try log.append(record(1))
        let before = try log.lines()
        #expect(throws: QueueError.self) {
            try log.append(record(2, newSHA256: String(repeating: "f", count: 8 << 20)))
        }
        #expect(try log.lines() == before)
        #expect(try log.verify() == .intact(records: 1))
    }

    @Test("lines are read one at a time across the read buffer's edges, as a plain split would give them; an over-long one is only counted")
    func streamedLines() throws {
        let limit = AuditLog.maximumLineLength
        let buffer = AuditLineReader.bufferSize
        // Lengths that put line ends on, just before and just after the buffer's edges,
        // lines at and over the cap straddling an edge, empty lines, and a last line with no newline.
        var lengths = [0, 10, buffer - 12, 1, 0, limit, limit + 1, buffer, 3, limit - 1, 2 * buffer + 5, 0, 7]
        lengths += Array(repeating: 300, count: 2_000)
        lengths.append(limit + 1)
        var file = Data()
        for (index, length) in lengths.enumerated() {
            file += Data(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: length) + Data("\n".utf8)
        }
        file += Data("tail".utf8)
        let log = log("stream")
        try AtomicFile.write(file, to: log.path)

        var seen: [AuditLogLine] = []
        try log.forEachLine { seen.append($0) }
        let expected = lengths + [4]
        #expect(seen.map(\.length) == expected)
        #expect(seen.map(\.number) == Array(1...expected.count))
        for (line, length) in zip(seen, expected) where length <= limit {
            let index = line.number - 1
            let byte = index < lengths.count ? UInt8(ascii: "a") + UInt8(index % 26) : nil
            let want = byte.map { Data(repeating: $0, count: length) } ?? Data("tail".utf8)
            #expect(line.bytes == want, "line \(line.number) of \(length) bytes")
        }
        let overLong = expected.indices.filter { expected[$0] > limit }.map { $0 + 1 }
        #expect(overLong == [3, 7, 8, 11, lengths.count])
        #expect(seen.filter { $0.bytes == nil }.map(\.number) == overLong)
        // verify stops at the first over-long line and names it.
        #expect(try log.verify() == .broken(line: 1, reason: "not an audit record (no leading hash)"))
    }

    @Test("a symlink or a FIFO at the log's path is refused, never followed or opened for reading")
    func logIsARegularFile() throws {
        let target = bed.root.appending("elsewhere-\(UUID().uuidString.prefix(8)).log")
        try AtomicFile.write(Data("secret\n".utf8), to: target)
        let linked = log("link")
        #expect(symlink(target.string, linked.path.string) == 0)
        #expect(throws: QueueError.self) { try linked.verify() }
        let fifo = log("fifo")
        #expect(mkfifo(fifo.path.string, 0o600) == 0)
        // With a deadline: a reader that blocked in open(2) would otherwise hang the run.
        let refused = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if (try? fifo.verify()) == nil { refused.signal() }
        }
        if refused.wait(timeout: .now() + 10) == .timedOut {
            let writer = open(fifo.path.string, O_WRONLY | O_NONBLOCK)  // releases a blocked reader
            if writer >= 0 { close(writer) }
            Issue.record("verify blocked on a FIFO, or read it as a log")
        }
    }
}
