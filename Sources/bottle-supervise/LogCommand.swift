import Apply
import ArgumentParser
import Foundation
import Queue
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise log`: the audit trail of decisions, applies and rollbacks.
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show or verify the audit trail of decisions, applies and rollbacks.",
        discussion: """
            The trail is <queue-root>/audit.log, one JSON record per line, each carrying the SHA-256 of \
            the line before it. --verify checks the chain and exits 1 naming the first line that was \
            edited, removed or reordered; otherwise it prints "N records, chain intact" and exits 0.
            """
    )

    @Flag(help: "Print the records as JSON lines, exactly as stored.")
    var json = false

    @Flag(help: "Check the hash chain instead of printing the records.")
    var verify = false

    @OptionGroup var locations: HostLocationOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // interrupted applies are finished first, in the config root
        await locations.endOverdueGrants(command: "log")
        locations.finishInterruptedApplies(command: "log")
        let log = AuditLog(queueRoot: locations.queueRoot)
        do {
            if verify {
                // A verification passes only on a log that is there: an empty one is fine, a missing one is not.
                var info = stat()
                guard lstat(log.path.string, &info) == 0 else {
                    throw Failure.failed(
                        "there is no audit log at \(log.path) to verify; nothing was checked "
                            + "(it is created by the first decision; is this the right queue root?)")
                }
                let result = try log.verify()
                switch result {
                case .intact:
                    print("\(result)")
                case .broken:
                    throw Failure.failed("\(log.path): \(result.description)")
                }
                return
            }
            if json {
                try log.forEachLine { line in
                    guard let bytes = line.bytes else {
                        throw QueueError.malformedFile(
                            path: log.path.string, reason: "line \(line.number): \(AuditLog.oversizedReason(line.length))")
                    }
                    // A line that is not a record fails the command, as `log` does (the lines before it are out).
                    if let defect = AuditLog.defect(in: bytes) {
                        throw QueueError.malformedFile(path: log.path.string, reason: "line \(line.number): \(defect)")
                    }
                    print(Escaped.json(String(decoding: bytes, as: UTF8.self)))
                }
                return
            }
            let records = try log.records()
            guard !records.isEmpty else {
                print("no audit records yet in \(Escaped(log.path.string))")
                return
            }
            print(AuditTable.render(records))
        } catch let error as QueueError {
            throw Failure.failed(error.description)
        }
    }
}

/// The human view of the audit log: one row per record, every field escaped.
enum AuditTable {
    static func render(_ records: [AuditRecord]) -> String {
        let header = ["TIME", "EVENT", "BOTTLE", "FILE", "ID", "STATUS", "BY", "OLD", "NEW", "OUTCOME"]
        var rows = [header]
        for record in records {
            rows.append(
                [
                    Timestamp.format(record.at), record.event.rawValue, record.bottle.rawValue, record.file?.fileName ?? "-",
                    record.id?.rawValue ?? "-", record.status, record.by, short(record.oldSHA256),
                    short(record.newSHA256), record.apply?.summary ?? "",
                ].map { Escaped($0).description })
        }
        var widths = Array(repeating: 0, count: header.count - 1)
        for row in rows {
            for index in widths.indices { widths[index] = max(widths[index], row[index].count) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                if index < widths.count {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                } else {
                    line += cell
                }
            }
            return line
        }.joined(separator: "\n")
    }

    private static func short(_ hash: String?) -> String {
        hash.map { String($0.prefix(8)) } ?? "-"
    }
}
