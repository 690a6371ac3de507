import FileAccess
import Foundation
import Queue
import Risk

/// The ``ListingCache`` file's text: lines of tab-separated fields.
///
///     bottle-supervise listing cache <TAB> 1 <TAB> <version> <TAB> <build>
///     B <TAB> <slug> <TAB> <bytes of the section's records>
///     <record>
///     …
///
/// A record's fields, in order: id; the proposal file's device, inode,
/// size, modification and change time (ns); the current file (`~` for none,
/// else its five numbers joined by `:`); tool; created and expires (`~`)
/// as the bit patterns of their `Date`s (exact, no rounding through text);
/// justification; current-file SHA-256 (`~`), proposed-file SHA-256,
/// proposal SHA-256; problem (`~`, or `=` and the text); then four fields
/// per risk hint: severity, rule, reason, line (`~`). Text fields escape
/// `\`, tab, line feed and carriage return with a backslash, so a field
/// never contains a separator.
enum CacheText {
    // MARK: - Writing

    static func append(_ record: ListingCache.Record, to out: inout [UInt8]) {
        let row = record.row
        var fields: [String] = [
            record.id.rawValue, String(record.identity.device), String(record.identity.inode),
            String(record.identity.size), String(record.identity.modified), String(record.identity.changed),
        ]
        switch record.current {
        case .absent: fields.append("~")
        case .version(let file):
            fields.append("\(file.device):\(file.inode):\(file.size):\(file.modified):\(file.changed)")
        }
        fields.append(row.tool.rawValue)
        fields.append(String(row.createdAt.timeIntervalSinceReferenceDate.bitPattern))
        fields.append(row.expiresAt.map { String($0.timeIntervalSinceReferenceDate.bitPattern) } ?? "~")
        fields.append(escaped(row.justification))
        fields.append(row.currentFileSHA256 ?? "~")
        fields.append(row.proposedFileSHA256)
        fields.append(row.proposalSHA256 ?? "~")
        fields.append(row.problem.map { "=" + escaped($0) } ?? "~")
        for hint in row.riskHints {
            fields += [hint.severity.rawValue, escaped(hint.rule), escaped(hint.reason), hint.line.map(String.init) ?? "~"]
        }
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(tab) }
            out += field.utf8
        }
        out.append(newline)
    }

    static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == backslash || $0 == tab || $0 == newline || $0 == carriageReturn })
        else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: - Reading

    /// Each bottle's section, by slug; `nil` when the header is not
    /// `header` or a section runs past the end (a damaged file is not used at all).
    static func sections(of bytes: UnsafeBufferPointer<UInt8>, header: String) -> [String: Range<Int>]? {
        let headerBytes = Array(header.utf8)
        guard bytes.count > headerBytes.count, bytes.starts(with: headerBytes), bytes[headerBytes.count] == newline
        else { return nil }
        var sections: [String: Range<Int>] = [:]
        var position = headerBytes.count + 1
        while position < bytes.count {
            guard let end = bytes[position...].firstIndex(of: newline) else { return nil }
            let fields = bytes[position..<end].split(separator: tab, omittingEmptySubsequences: false)
            // The length is compared with what is left, never added to: a length near Int.max must not overflow.
            guard fields.count == 3, fields[0].elementsEqual("B".utf8), let length = Int(text(fields[2])),
                length >= 0, length <= bytes.count - (end + 1)
            else { return nil }
            sections[text(fields[1])] = end + 1..<end + 1 + length
            position = end + 1 + length
        }
        return sections
    }

    /// The records of one bottle's section; a record that does not parse is left out.
    static func records(in section: UnsafeBufferPointer<UInt8>, of bottle: BottleSlug) -> [ProposalID: ListingCache
        .Record]
    {
        var lines = 0
        for byte in section where byte == newline { lines += 1 }
        var records = [ProposalID: ListingCache.Record](minimumCapacity: lines)
        var fields: [Range<Int>] = []
        fields.reserveCapacity(24)
        var lineStart = 0
        while lineStart < section.count {
            let lineEnd = section[lineStart...].firstIndex(of: newline) ?? section.count
            fields.removeAll(keepingCapacity: true)
            var fieldStart = lineStart
            for index in lineStart..<lineEnd where section[index] == tab {
                fields.append(fieldStart..<index)
                fieldStart = index + 1
            }
            fields.append(fieldStart..<lineEnd)
            if let record = record(fields, in: section, of: bottle) { records[record.id] = record }
            lineStart = lineEnd + 1
        }
        return records
    }

    /// One record from its fields' ranges in `bytes`; `nil` when any field does not parse.
    private static func record(_ fields: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>, of bottle: BottleSlug)
        -> ListingCache.Record?
    {
        func field(_ index: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[fields[index]]) }
        func string(_ index: Int) -> String { String(decoding: field(index), as: UTF8.self) }
        func isNone(_ index: Int) -> Bool { fields[index].count == 1 && bytes[fields[index].lowerBound] == tilde }
        guard fields.count >= 15, (fields.count - 15) % 4 == 0,
            let id = try? ProposalID(string(0)),
            let identity = identity(field(1), field(2), field(3), field(4), field(5)),
            let current = current(field(6)),
            let tool = Tool(rawValue: string(7)),
            let created = number(field(8)).flatMap(date)
        else { return nil }
        var expires: Date?
        if !isNone(9) {
            guard let bits = number(field(9)), let date = date(bits) else { return nil }
            expires = date
        }
        var problem: String?
        if !isNone(14) {
            guard field(14).first == UInt8(ascii: "=") else { return nil }
            problem = unescaped(String(decoding: UnsafeBufferPointer(rebasing: field(14).dropFirst()), as: UTF8.self))
        }
        var hints: [RiskHint] = []
        var index = 15
        while index < fields.count {
            guard let severity = RiskSeverity(rawValue: string(index)) else { return nil }
            var line: Int?
            if !isNone(index + 3) {
                guard let number = number(field(index + 3)), number <= Int.max else { return nil }
                line = Int(number)
            }
            hints.append(RiskHint(severity, unescaped(string(index + 1)), unescaped(string(index + 2)), line: line))
            index += 4
        }
        let row = ListedProposal(
            id: id, bottle: bottle, tool: tool, createdAt: created, expiresAt: expires,
            justification: unescaped(string(10)), currentFileSHA256: isNone(11) ? nil : string(11),
            proposedFileSHA256: string(12), proposalSHA256: isNone(13) ? nil : string(13), problem: problem,
            decision: nil, waiting: false, stoppedWaitingAt: nil, archived: false, riskHints: hints)
        return ListingCache.Record(id: id, identity: identity, current: current, row: row)
    }

    private static func identity(
        _ device: some Collection<UInt8>, _ inode: some Collection<UInt8>, _ size: some Collection<UInt8>,
        _ modified: some Collection<UInt8>, _ changed: some Collection<UInt8>
    ) -> FileIdentity? {
        guard let device = number(device), let inode = number(inode), let size = number(size), size <= Int64.max,
            let modified = number(modified), modified <= Int64.max, let changed = number(changed), changed <= Int64.max
        else { return nil }
        return FileIdentity(
            device: device, inode: inode, size: Int64(size), modified: Int64(modified), changed: Int64(changed))
    }

    private static func current(_ field: UnsafeBufferPointer<UInt8>) -> ListingCache.CurrentFile? {
        if field.count == 1, field[0] == tilde { return .absent }
        let parts = field.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 5, let identity = identity(parts[0], parts[1], parts[2], parts[3], parts[4]) else {
            return nil
        }
        return .version(identity)
    }

    /// A decimal `UInt64` written by this type: digits only, no sign, no overflow.
    private static func number(_ digits: some Collection<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            value = sum
        }
        return value
    }

    /// A date this type wrote: finite and within ±3,000 years of 2001, so
    /// no reader (an age in whole seconds) traps on a damaged one; `nil` otherwise.
    private static func date(_ bits: UInt64) -> Date? {
        let seconds = Double(bitPattern: bits)
        guard seconds.isFinite, abs(seconds) < 1e11 else { return nil }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    private static func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    static func unescaped(_ text: some StringProtocol) -> String {
        guard text.utf8.contains(backslash) else { return String(text) }
        var out = ""
        var escaping = false
        for scalar in text.unicodeScalars {
            if escaping {
                switch scalar {
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                default: out.unicodeScalars.append(scalar)
                }
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let backslash = UInt8(ascii: "\\")
    private static let tilde = UInt8(ascii: "~")
}
