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

    /// Appends `record`, chained to the line before it.
    /// - Returns: the record as written (with ``AuditRecord/prev``).
    @discardableResult
    public func append(_ record: AuditRecord) throws(QueueError) -> AuditRecord {
        try AtomicFile.makeDirectory(path.removingLastComponent())
        let fd = open(path.string, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: path.string, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(operation: "lock", path: path.string, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        var chained = record
        chained.prev = try lastLine(fd).map { SHA256Hex.of($0) } ?? AuditLog.genesis
        var line = try AuditLog.line(for: chained)
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

    /// Every line of the log as raw bytes (without newlines); empty when there is no log.
    public func lines() throws(QueueError) -> [Data] {
        guard let data = try AtomicFile.read(path, limit: 1 << 30) else { return [] }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Data($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// The records, in order, checking each line's own hash but not the chain.
    public func records() throws(QueueError) -> [AuditRecord] {
        var out: [AuditRecord] = []
        for (index, line) in try lines().enumerated() {
            switch AuditLog.decode(line) {
            case .success(let record): out.append(record)
            case .failure(let error):
                throw .malformedFile(path: path.string, reason: "line \(index + 1): \(error.reason)")
            }
        }
        return out
    }

    /// Checks the whole chain.
    public func verify() throws(QueueError) -> AuditVerification {
        var previous = AuditLog.genesis
        var count = 0
        for (index, line) in try lines().enumerated() {
            let number = index + 1
            let record: AuditRecord
            switch AuditLog.decode(line) {
            case .success(let decoded): record = decoded
            case .failure(let error): return .broken(line: number, reason: error.reason)
            }
            guard record.prev == previous else {
                return .broken(
                    line: number,
                    reason: number == 1
                        ? "the first record does not start the chain (a line before it was removed)"
                        : "its prev does not match line \(number - 1): a line was edited, removed or reordered")
            }
            previous = SHA256Hex.of(line)
            count += 1
        }
        return .intact(records: count)
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

    /// The last line of the open log (without its newline), or `nil` when it is empty.
    private func lastLine(_ fd: Int32) throws(QueueError) -> Data? {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return nil }
        var end = size
        var buffer = [UInt8](repeating: 0, count: 1)
        if pread(fd, &buffer, 1, size - 1) == 1, buffer[0] == UInt8(ascii: "\n") { end = size - 1 }
        var start = end
        var collected: [UInt8] = []
        let step = 4096
        while start > 0 {
            let from = max(0, start - off_t(step))
            var block = [UInt8](repeating: 0, count: Int(start - from))
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, from) }
            guard count == block.count else { throw .io(operation: "read", path: path.string, errno: errno) }
            if let newline = block.lastIndex(of: UInt8(ascii: "\n")) {
                collected = Array(block[(newline + 1)...]) + collected
                return Data(collected)
            }
            collected = block + collected
            start = from
        }
        return Data(collected)
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
