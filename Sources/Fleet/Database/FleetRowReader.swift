import Foundation
import PostgresNIO
import Queue

/// Reads a result row's columns in order, and turns the fleet's columns back
/// into domain values: a value the schema's CHECKs should have kept out (an
/// unknown status, a malformed slug) fails the read with the column's name
/// rather than being guessed at.
struct FleetRowReader {
    private let row: PostgresRandomAccessRow
    private var index: Int

    init(_ row: PostgresRow, from index: Int = 0) {
        self.row = row.makeRandomAccess()
        self.index = index
    }

    /// The next column, decoded.
    mutating func next<Value: PostgresDecodable>(_ type: Value.Type = Value.self) throws -> Value {
        defer { index += 1 }
        return try row[index].decode(Value.self)
    }

    /// Whether the next column is NULL (without moving).
    var nextIsNull: Bool { row[index].bytes == nil }

    /// Moves past `count` columns.
    mutating func skip(_ count: Int) { index += count }

    /// A timestamp, at the queue's millisecond precision (so a row read back
    /// compares equal to the values written).
    mutating func date() throws -> Date { Timestamp.normalized(try next(Date.self)) }

    mutating func optionalDate() throws -> Date? { try next(Date?.self).map(Timestamp.normalized) }

    mutating func hostName() throws -> FleetHostName {
        let text: String = try next()
        return try FleetHostName(text, source: "the database's host column")
    }

    mutating func bottle() throws -> BottleSlug { try BottleSlug(try next(String.self)) }

    mutating func proposalID() throws -> ProposalID { try ProposalID(try next(String.self)) }

    /// A value of a string-backed enumeration, or an error naming the column.
    mutating func value<Value: RawRepresentable>(_ type: Value.Type, column: String) throws -> Value
    where Value.RawValue == String {
        let text: String = try next()
        guard let value = Value(rawValue: text) else {
            throw FleetStoreError.invalid("the database holds \(column) \(FleetHostName.quoted(text)), which this program does not know")
        }
        return value
    }

    mutating func optionalValue<Value: RawRepresentable>(_ type: Value.Type, column: String) throws -> Value?
    where Value.RawValue == String {
        if nextIsNull {
            index += 1
            return nil
        }
        return try value(type, column: column)
    }
}
