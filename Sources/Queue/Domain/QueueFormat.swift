import Foundation

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
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    return data
  }

  /// Decodes a queue record, refusing a format version this build does not know.
  /// - Parameter path: named in errors, so the operator knows which file is bad.
  public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String)
    throws(QueueError) -> T
  {
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
    do {
      let header = try decoder.decode(FormatHeader.self, from: data)
      guard header.format == version else {
        throw QueueError.unsupportedFormat(path: path, version: header.format)
      }
      return try decoder.decode(type, from: data)
    } catch let error as QueueError {
      throw error
    } catch {
      throw .malformedFile(path: path, reason: describe(error))
    }
  }

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
public enum Timestamp {
  /// Formats `date`.
  public static func format(_ date: Date) -> String {
    date.formatted(style)
  }

  /// Parses a timestamp with or without fractional seconds; `nil` if it is not one.
  public static func parse(_ text: String) -> Date? {
    (try? style.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
  }

  private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
