import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The on-disk queue format: its version and its JSON coding.
///
/// One encoder and one decoder configuration for every queue file, so that
/// dates, key order and escaping are the same whoever writes (sidecar,
/// console, apply step). Dates are RFC 3339 UTC with milliseconds; keys are
/// sorted so files diff cleanly. See docs/queue-format.md.
public enum QueueFormat {
    /// The format version written in every file's `format` field.
    public static let version = 1

    /// Encodes a queue record as pretty-printed, key-sorted JSON with a trailing newline.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// One encoder for every write, as ``decoder`` is for reads: the sidecar
    /// encodes a proposal per queued call. `JSONEncoder` is safe to share
    /// once configured.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }()

    /// Decodes a queue record, refusing a format version this build does not know.
    ///
    /// The text is first read by the strict parser (``QueueFileFields``), the
    /// one the listing's fast path reads it with: `JSONDecoder` alone would
    /// take a file with duplicate keys, a byte order mark or a trailing comma,
    /// and keep the first of two values where other readers keep the last.
    /// - Parameter path: named in errors, so the operator knows which file is bad.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: @autoclosure () -> String)
        throws(QueueError) -> T
    {
        _ = try QueueFileFields(data, path: path)
        do {
            let value = try decoder.decode(type, from: data)
            if let record = value as? any QueueRecord, record.format != version {
                throw QueueError.unsupportedFormat(path: path(), version: record.format)
            }
            return value
        } catch {
            // A file of another version may not even decode: say that, not which field is off.
            if let header = try? decoder.decode(FormatHeader.self, from: data), header.format != version {
                throw .unsupportedFormat(path: path(), version: header.format)
            }
            if let error = error as? QueueError { throw error }
            throw .malformedFile(path: path(), reason: describe(error))
        }
    }

    /// One decoder for every read: configuring a JSONDecoder per file costs
    /// more than decoding a small record, and the console reads thousands.
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 UTC timestamp: \(text)")
            }
            return date
        }
        return decoder
    }()

    private struct FormatHeader: Decodable { var format: Int }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            "missing field \(fieldPath(context.codingPath + [key]))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            "field \(fieldPath(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context)?:
            context.codingPath.isEmpty
                ? "not valid JSON"
                : "field \(fieldPath(context.codingPath)): \(context.debugDescription)"
        default:
            "\(error)"
        }
    }

    private static func fieldPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// RFC 3339 timestamps in UTC with millisecond precision (`2026-11-25T02:49:03.125Z`).
///
/// Formatting is done by hand from whole milliseconds, so a date written and
/// read back compares equal to its ``normalized(_:)`` self; a float-based
/// formatter can print `.122` for a value stored as `.12299999`.
public enum Timestamp {
    /// Formats `date`.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(milliseconds.quotientAndRemainderFlooring(dividingBy: 1000).quotient)
        let fraction = Int(milliseconds.quotientAndRemainderFlooring(dividingBy: 1000).remainder)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(24)
        text.appendDigits(Int(parts.tm_year) + 1900, width: 4)
        text.append("-")
        text.appendDigits(Int(parts.tm_mon) + 1, width: 2)
        text.append("-")
        text.appendDigits(Int(parts.tm_mday), width: 2)
        text.append("T")
        text.appendDigits(Int(parts.tm_hour), width: 2)
        text.append(":")
        text.appendDigits(Int(parts.tm_min), width: 2)
        text.append(":")
        text.appendDigits(Int(parts.tm_sec), width: 2)
        text.append(".")
        text.appendDigits(fraction, width: 3)
        text.append("Z")
        return text
    }

    /// Parses a timestamp with or without fractional seconds; `nil` if it is not one.
    public static func parse(_ text: String) -> Date? {
        if let date = parseCanonical(text) { return date }
        guard let date = (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) else {
            return nil
        }
        return normalized(date)
    }

    /// `date` at the precision the queue stores (whole milliseconds), so a
    /// value compares equal to itself after a round trip through a file.
    public static func normalized(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// The form this build writes (`2026-11-25T02:49:03.125Z`), parsed by
    /// hand: the console reads one per queue file, and a format style is
    /// slower than the file read.
    private static func parseCanonical(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            let millisecond = number(20..<23), (1...12).contains(month), (1...31).contains(day), hour < 24,
            minute < 60, second < 61
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: (Double(Int64(seconds) * 1000 + Int64(millisecond)) / 1000))
    }

    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

extension String {
    /// Appends `value` (not negative) in decimal, zero-padded to `width`
    /// digits: what `String(format: "%0*d")` does, without a format string
    /// parsed per call — a proposal's timestamps and id are made on every
    /// queued call.
    mutating func appendDigits(_ value: Int, width: Int) {
        let digits = String(value)  // a small string: no allocation
        // A value wider than `width` keeps all its digits, as printf would.
        if digits.utf8.count < width { append(String(repeating: "0", count: width - digits.utf8.count)) }
        append(digits)
    }
}

extension Int64 {
    fileprivate func quotientAndRemainderFlooring(dividingBy divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

/// A file of the queue format: it carries the format version it was written in.
protocol QueueRecord {
    var format: Int { get }
}

extension Proposal: QueueRecord {}
extension Decision: QueueRecord {}
