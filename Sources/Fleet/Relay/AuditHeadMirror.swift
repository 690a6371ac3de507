import Apply
import Foundation
import Logging
import Queue
import SystemPackage

/// Sends this host's audit chain head and record count to `fleet_hosts`
/// (``FleetStore/recordAuditHead(host:head:records:)``): at the start of a
/// session, after each apply the relay makes, and on the heartbeat when the
/// log changed (a decision made on the host itself).
///
/// The head comes from the log's own reader (``AuditLog/head()``: the lines
/// counted, the last one hashed, as `append` chains the next record). Whether
/// the log changed is known from its size, modification time and inode
/// (one `stat`), so an idle relay's heartbeat reads nothing; an unchanged
/// head is not sent again.
struct AuditHeadMirror {
    let host: FleetHostName
    let log: AuditLog
    let logger: Logger
    /// What the database was last sent (this session).
    private(set) var sent: AuditHead?
    /// The log's file as it was when last read.
    private var stamp: Stamp?

    /// What tells a changed log from an unchanged one without reading it.
    struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec

        static func == (left: Stamp, right: Stamp) -> Bool {
            (left.device, left.inode, left.size, left.modified.tv_sec, left.modified.tv_nsec)
                == (right.device, right.inode, right.size, right.modified.tv_sec, right.modified.tv_nsec)
        }
    }

    init(host: FleetHostName, queueRoot: FilePath, logger: Logger) {
        self.host = host
        self.log = AuditLog(queueRoot: queueRoot)
        self.logger = logger
    }

    /// Sends the head when it changed since it was last sent; with
    /// `unlessUnchanged` (the heartbeat), reads the log only when its file changed.
    /// A log that cannot be read is logged and not sent (the host's own
    /// `log --verify` says why); a database failure is thrown (the session ends).
    mutating func send(to store: FleetStore, unlessUnchanged: Bool = false) async throws {
        let current = Self.stamp(of: log.path)
        if unlessUnchanged, sent != nil, current == stamp { return }
        let head: AuditHead
        do {
            head = try log.head()
        } catch {
            logger.error(
                "could not read the audit log's head; it is not mirrored",
                metadata: ["path": "\(log.path)", "error": "\(error)"])
            return
        }
        stamp = current
        guard head != sent else { return }
        let (host, value, records) = (host, head.head, head.records)
        try await FleetDeadline.within(Relay.stepLimit, doing: "recording the audit head of \(host)") {
            try await store.recordAuditHead(host: host, head: value, records: records)
        }
        sent = head
    }

    /// The log file's identity, size and modification time; `nil` when there is none.
    static func stamp(of path: FilePath) -> Stamp? {
        var info = stat()
        guard stat(path.string, &info) == 0 else { return nil }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
    }
}
