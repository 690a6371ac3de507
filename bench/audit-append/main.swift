// Audit-log append time with a hostile 16 MiB line at the end of the log, beside
// the time with a normal log (issue 9's benchmark; goal: under 20 ms).
//
// normal   a log of 1,000 records; each timed append adds one more.
// hostile  a log whose last line is 16 MiB with no newline in it (as if planted); each
//          timed append is the first one after that line, then the file is cut back
//          to end with the planted line again (not timed, and synced before the next).
// Each append is the real AuditLog.append: flock, read the last line, write, fsync.
//
// Usage: audit-append [--runs N] [--dir PATH] [--mib M]
import Apply
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

@main
struct AuditAppend {
    static func main() throws {
        var runs = 200
        var mebibytes = 16
        var directory = FilePath(FileManager.default.temporaryDirectory.path).appending("audit-append-\(getpid())")
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--runs": runs = Int(arguments.next() ?? "") ?? runs
            case "--mib": mebibytes = Int(arguments.next() ?? "") ?? mebibytes
            case "--dir": directory = FilePath(arguments.next() ?? directory.string)
            default:
                FileHandle.standardError.write(Data("usage: audit-append [--runs N] [--dir PATH] [--mib M]\n".utf8))
                exit(2)
            }
        }
        try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let bottle = try BottleSlug("bench")
        func record() -> AuditRecord {
            AuditRecord(
                event: .decision, by: "operator", bottle: bottle, file: .allowlist, tool: .pipelockBlock,
                id: .generate(), status: "approved", oldSHA256: SHA256Hex.of("old"), newSHA256: SHA256Hex.of("new"))
        }
        let clock = ContinuousClock()
        func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }

        let normal = AuditLog(path: directory.appending("normal.log"))
        for _ in 0..<1000 { try normal.append(record()) }
        var normalTimes: [Double] = []
        for _ in 0..<runs {
            let started = clock.now
            try normal.append(record())
            normalTimes.append(milliseconds(started.duration(to: clock.now)))
        }

        let hostile = AuditLog(path: directory.appending("hostile.log"))
        try hostile.append(record())
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: hostile.path.string))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"hash":""#.utf8) + Data(repeating: UInt8(ascii: "f"), count: mebibytes << 20))
        let end = try handle.offset()
        try handle.synchronize()  // the planted bytes reach the disk before any timing
        var hostileTimes: [Double] = []
        for _ in 0..<runs {
            let started = clock.now
            try hostile.append(record())
            hostileTimes.append(milliseconds(started.duration(to: clock.now)))
            // Cut the file back so the planted line is last again (not timed).
            try handle.truncate(atOffset: end)
            try handle.synchronize()
        }
        try handle.close()
        // The same on a small log, read back whole: verify names the planted line.
        let checked = AuditLog(path: directory.appending("checked.log"))
        try checked.append(record())
        let checkHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: checked.path.string))
        let checkStart = try checkHandle.seekToEnd()
        try checkHandle.write(contentsOf: Data(#"{"hash":""#.utf8))
        try checkHandle.truncate(atOffset: checkStart + UInt64(mebibytes << 20))
        try checkHandle.close()
        try checked.append(record())
        guard case .broken(let line, _) = try checked.verify(), line == 2 else {
            FileHandle.standardError.write(Data("verify did not name the planted line\n".utf8))
            exit(1)
        }

        func report(_ label: String, _ times: [Double]) {
            let sorted = times.sorted()
            let median = sorted[sorted.count / 2]
            let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            print(
                String(
                    format: "%@: %d appends, median %.2f ms, p99 %.2f ms, worst %.2f ms", label, times.count, median, p99,
                    sorted.last!))
        }
        report("normal log (1,000 records)", normalTimes)
        report("after a planted \(mebibytes) MiB line", hostileTimes)
        print("verify names the planted line (line 2) as the break in the chain")
    }
}
