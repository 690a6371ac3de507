import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The append-only audit trail at `<queue-root>/audit.log`, one JSON object
/// per line.
///
/// Each line starts with `{"hash":"<sha256 of the rest of the record>",`
/// and the record's `prev` holds the SHA-256 of the whole previous line
/// (64 zeros for the first), so an edited, removed or reordered line breaks
/// the chain and ``verify()`` names it. Appends take an exclusive `flock`,
/// so two operator processes never interleave or fork the chain, and are
/// fsynced before the lock is released.
///
/// No line is longer than ``maximumLineLength``: ``append(_:)`` refuses a
/// longer record, so a longer line was not written by this program. An
/// append reads at most that many bytes from the end of the file, whatever
/// the file holds; when the last line is longer, it is not hashed (that would
/// cost time in proportion to whatever was planted there) and the new record's
/// `prev` is ``oversizedPrevious``, while ``verify()`` reports the long line
/// itself as the break in the chain.
public struct AuditLog: Sendable {
    /// The log file.
    public let path: FilePath

    /// The log under `queueRoot`.
    public init(queueRoot: FilePath) {
        self.path = queueRoot.appending("audit.log")
    }

    /// The log at an explicit path.
    public init(path: FilePath) {
        self.path = path
    }

    /// The `prev` of the first record.
    public static let genesis = String(repeating: "0", count: 64)

    /// The longest line a record may take, newline excluded. A record is a
    /// few hundred bytes of host-computed values; the largest part, a reload
    /// command's output tail, is capped at 4 KiB (up to six times that once
    /// JSON-escaped), so 64 KiB leaves room without letting one line cost
    /// more than a fraction of a millisecond to read and hash.
    public static let maximumLineLength = 64 * 1024

    /// The `prev` of a record appended after a line longer than
    /// ``maximumLineLength``: that line was not written by this program and is
    /// not read, so the chain restarts after it (``verify()`` reports it).
    public static let oversizedPrevious = "previous-line-over-64KiB-not-hashed"

    /// Appends `record`, chained to the line before it.
    /// - Returns: the record as written (with ``AuditRecord/prev``).
    @discardableResult
    public func append(_ record: AuditRecord) throws(QueueError) -> AuditRecord {
        do throws(FileAccessError) { try AtomicFile.makeDirectory(path.removingLastComponent()) } catch {
            throw QueueError(error)
        }
        let fd = open(path.string, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: path.string, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(operation: "lock", path: path.string, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        var chained = record
        let tail = try lastLine(fd)
        switch tail {
        case .none: chained.prev = AuditLog.genesis
        case .line(let previous, _): chained.prev = SHA256Hex.of(previous)
        case .oversized(_): chained.prev = AuditLog.oversizedPrevious
        }
        let encoded = try AuditLog.line(for: chained)
        guard encoded.count <= AuditLog.maximumLineLength else {
            throw .malformedFile(
                path: path.string,
                reason:
                    "refused to append a record of \(encoded.count) bytes: an audit record is at most \(AuditLog.maximumLineLength) bytes (a field holds far more than a host value should)"
            )
        }
        var line = Data()
        // A torn last line (a crash mid-write) stays a line of its own: verify names it.
        switch tail {
        case .line(_, terminated: false), .oversized(terminated: false): line.append(UInt8(ascii: "\n"))
        default: break
        }
        line.append(encoded)
        line.append(UInt8(ascii: "\n"))
        let failure: Int32 = line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
        if failure != 0 { throw .io(operation: "append to", path: path.string, errno: failure) }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: path.string, errno: errno) }
        return chained
    }

    /// Calls `body` with each line of the log, in order, one at a time
    /// (``AuditLineReader``: memory stays bounded whatever the file's size);
    /// nothing when there is no log.
    public func forEachLine(_ body: (AuditLogLine) throws -> Void) throws {
        try AuditLineReader(path: path).forEachLine(body)
    }

    /// Every line as raw bytes (an over-long one as empty bytes), loaded at
    /// once: for tests and small logs; the commands use ``forEachLine(_:)``.
    func lines() throws -> [Data] {
        var out: [Data] = []
        try forEachLine { out.append($0.bytes ?? Data()) }
        return out
    }

    /// The records, in order, checking each line's own hash but not the chain.
    public func records() throws(QueueError) -> [AuditRecord] {
        var out: [AuditRecord] = []
        try readLines { line throws(QueueError) in
            guard let bytes = line.bytes else {
                throw .malformedFile(
                    path: path.string, reason: "line \(line.number): \(AuditLog.oversizedReason(line.length))")
            }
            switch AuditLog.decode(bytes) {
            case .success(let record): out.append(record)
            case .failure(let error):
                throw .malformedFile(path: path.string, reason: "line \(line.number): \(error.reason)")
            }
        }
        return out
    }

    /// Checks the whole chain, reading one line at a time.
    public func verify() throws(QueueError) -> AuditVerification {
        var previous = AuditLog.genesis
        var count = 0
        var broken: AuditVerification?
        try readLines { line throws(QueueError) in
            guard broken == nil else { return }
            guard let bytes = line.bytes else {
                broken = .broken(line: line.number, reason: AuditLog.oversizedReason(line.length))
                return
            }
            let record: AuditRecord
            switch AuditLog.decode(bytes) {
            case .success(let decoded): record = decoded
            case .failure(let error):
                broken = .broken(line: line.number, reason: error.reason)
                return
            }
            guard record.prev == previous else {
                broken = .broken(
                    line: line.number,
                    reason: line.number == 1
                        ? "the first record does not start the chain (a line before it was removed)"
                        : "its prev does not match line \(line.number - 1): a line was edited, removed or reordered")
                return
            }
            previous = SHA256Hex.of(bytes)
            count += 1
        }
        return broken ?? .intact(records: count)
    }

    /// The chain's head and length, reading one line at a time: the lines
    /// are counted and only the last one is hashed (nothing is decoded; a
    /// broken chain is ``verify()``'s to find). No log is an empty chain.
    public func head() throws(QueueError) -> AuditHead {
        var records = 0
        var last: AuditLogLine?
        try readLines { line throws(QueueError) in
            records += 1
            last = line
        }
        guard let last else { return AuditHead(head: AuditLog.genesis, records: 0) }
        return AuditHead(head: last.bytes.map { SHA256Hex.of($0) } ?? AuditLog.oversizedPrevious, records: records)
    }

    /// ``forEachLine(_:)`` with the body's and the reader's errors as `QueueError`.
    private func readLines(_ body: (AuditLogLine) throws(QueueError) -> Void) throws(QueueError) {
        do {
            try forEachLine { line in try body(line) }
        } catch let error as QueueError {
            throw error
        } catch {
            throw .io(operation: "read", path: path.string, errno: EIO)
        }
    }

    // MARK: - Line format

    private static let hashPrefix = Array(#"{"hash":""#.utf8)

    /// `{"hash":"<sha256(body)>",` followed by the body without its `{`,
    /// where body is the record as sorted-key compact JSON.
    static func line(for record: AuditRecord) throws(QueueError) -> Data {
        let body: Data
        do { body = try encoder.encode(record) } catch {
            throw .malformedFile(path: "audit.log", reason: "could not encode a record: \(error)")
        }
        var line = Data(hashPrefix)
        line.append(contentsOf: Array(SHA256Hex.of(body).utf8))
        line.append(contentsOf: Array("\",".utf8))
        line.append(body.dropFirst())
        return line
    }

    /// Why `line` is not a well-formed record (its own hash checked), or `nil`: for `log --json`,
    /// which prints lines as stored but must fail on a corrupt log as `log` does.
    public static func defect(in line: Data) -> String? {
        if case .failure(let error) = decode(line) { return error.reason }
        return nil
    }

    /// Parses a line, checking its own hash.
    static func decode(_ line: Data) -> Result<AuditRecord, AuditLineError> {
        let bytes = [UInt8](line)
        let prefixLength = hashPrefix.count + 64 + 2
        guard bytes.count > prefixLength, Array(bytes[0..<hashPrefix.count]) == hashPrefix,
            bytes[hashPrefix.count + 64] == UInt8(ascii: "\""), bytes[hashPrefix.count + 65] == UInt8(ascii: ",")
        else { return .failure(AuditLineError("not an audit record (no leading hash)")) }
        let hash = String(decoding: bytes[hashPrefix.count..<(hashPrefix.count + 64)], as: UTF8.self)
        let body = Data([UInt8(ascii: "{")] + bytes[prefixLength...])
        guard SHA256Hex.of(body) == hash else {
            return .failure(AuditLineError("its content does not match its hash: the line was edited"))
        }
        do {
            let record = try decoder.decode(AuditRecord.self, from: body)
            guard record.format == AuditRecord.formatVersion else {
                return .failure(
                    AuditLineError("format \(record.format); this build reads \(AuditRecord.formatVersion)"))
            }
            return .success(record)
        } catch {
            return .failure(AuditLineError("not a valid record: \(error)"))
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a timestamp: \(text)")
            }
            return date
        }
        return decoder
    }

    /// The index of the last `\n` in `bytes[..<end]`, by `memchr` (libc speed even in a
    /// debug build, where a byte loop over 64 KiB would cost milliseconds).
    private static func lastNewline(in bytes: [UInt8], before end: Int) -> Int? {
        bytes.withUnsafeBytes { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            var last: Int?
            var start = 0
            while start < end, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) {
                let index = base.distance(to: UnsafeRawPointer(found))
                last = index
                start = index + 1
            }
            return last
        }
    }

    public static func oversizedReason(_ length: Int) -> String {
        "\(length) bytes, longer than the \(maximumLineLength) any record takes: not written by bottle-supervise (the log was tampered with or damaged)"
    }

    /// What ends the log: nothing, a line, or a line too long to be a record.
    enum LastLine: Equatable {
        case none
        /// The last line without its newline; `terminated`: the file ends with a newline.
        case line(Data, terminated: Bool)
        /// Longer than ``maximumLineLength``; not read.
        case oversized(terminated: Bool)
    }

    /// The last line of the open log, reading at most ``maximumLineLength`` + 2
    /// bytes from its end (one `pread`), whatever the file holds.
    func lastLine(_ fd: Int32) throws(QueueError) -> LastLine {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return .none }
        let window = min(Int(size), AuditLog.maximumLineLength + 2)
        let from = size - off_t(window)
        var block = [UInt8](repeating: 0, count: window)
        var filled = 0
        while filled < window {
            let count = block.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, window - filled, from + off_t(filled))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw .io(operation: "read", path: path.string, errno: count < 0 ? errno : EIO) }
            filled += count
        }
        let terminated = block.last == UInt8(ascii: "\n")
        let end = terminated ? window - 1 : window
        if let newline = AuditLog.lastNewline(in: block, before: end) {
            return .line(Data(block[(newline + 1)..<end]), terminated: terminated)
        }
        // No newline in the window: the whole file is one line if the window reached its start.
        guard from == 0, end <= AuditLog.maximumLineLength else { return .oversized(terminated: terminated) }
        return .line(Data(block[..<end]), terminated: terminated)
    }
}

/// Why one audit line is not a valid record.
struct AuditLineError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The result of checking the audit log's chain.
public enum AuditVerification: Sendable, Equatable, CustomStringConvertible {
    /// Every line is a valid record chained to the one before.
    case intact(records: Int)
    /// The first line (1-based) that is not.
    case broken(line: Int, reason: String)

    public var description: String {
        switch self {
        case .intact(let records): "\(records) records, chain intact"
        case .broken(let line, let reason): "line \(line): \(reason)"
        }
    }
}
