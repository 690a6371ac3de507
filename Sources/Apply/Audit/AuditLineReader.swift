import Foundation
import Queue
import SystemPackage

/// One line of the audit log as the reader hands it out.
public struct AuditLogLine: Sendable, Equatable {
    /// 1-based line number.
    public let number: Int
    /// The line without its newline; `nil` when it is longer than
    /// ``AuditLog/maximumLineLength`` (then only its length was counted).
    public let bytes: Data?
    /// The line's length in bytes.
    public let length: Int
}

/// Reads the audit log one line at a time through a fixed buffer.
///
/// Why not read the file and split it: the log grows by one record per
/// decision for the life of a host (years of records), and `log`, `log --json`
/// and `log --verify` need one line at a time. Memory stays at the buffer plus
/// one line of at most ``AuditLog/maximumLineLength`` bytes, whatever the
/// file's size; a longer line (not written by this program: ``AuditLog``
/// refuses to append one) is counted, never held or hashed.
struct AuditLineReader {
    /// Bytes per `read(2)`.
    static let bufferSize = 256 * 1024

    let path: FilePath

    /// Calls `body` with each line in order; a last line without a newline is
    /// a line too. Returns quietly when there is no log.
    /// - Throws: the I/O error naming the file, or what `body` throws.
    func forEachLine(_ body: (AuditLogLine) throws -> Void) throws {
        // The log lives in the host's queue root, which no sidecar writes; still,
        // a symlink there is refused (O_NOFOLLOW) and a FIFO does not block the
        // open (O_NONBLOCK, then fstat refuses anything but a regular file).
        let fd = open(path.string, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return }
            throw QueueError.io(operation: "open", path: path.string, errno: code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw QueueError.io(operation: "stat", path: path.string, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw QueueError.malformedFile(path: path.string, reason: "not a regular file")
        }

        let limit = AuditLog.maximumLineLength
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        var line = Data()
        line.reserveCapacity(4096)
        var length = 0
        var number = 0
        func finish() throws {
            number += 1
            try body(AuditLogLine(number: number, bytes: length > limit ? nil : line, length: length))
            line.removeAll(keepingCapacity: true)
            length = 0
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw QueueError.io(operation: "read", path: path.string, errno: errno)
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { (chunk: UnsafeRawBufferPointer) in
                let base = chunk.baseAddress!
                var start = 0
                while start < count {
                    // memchr: a planted multi-megabyte line is skipped at memory speed.
                    let found = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start)
                    let end = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? count
                    let piece = end - start
                    if length + piece <= limit {
                        line.append(base.assumingMemoryBound(to: UInt8.self) + start, count: piece)
                    } else if length <= limit {
                        line.removeAll(keepingCapacity: true)  // too long: from here on only counted
                    }
                    length += piece
                    guard found != nil else { break }
                    try finish()
                    start = end + 1
                }
            }
        }
        if length > 0 { try finish() }  // a last line without its newline
    }
}
