/// A JSON value as the strict parser read it, small enough for the console
/// to compare two routes files (routes added, removed, changed) without
/// depending on Foundation's `Any`-typed JSON.
///
/// Equality is JSON equality, not text equality: object members compare
/// regardless of order. Strings and keys compare by their exact Unicode
/// scalars (two spellings of "é" are different keys, as for every JSON
/// reader), and numbers by their literal text (`1` and `1.0` differ), because
/// we do not know how cred-proxy reads them and would rather miss a duplicate
/// route than invent one.
public indirect enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept as its literal text so no precision is lost.
    case number(String)
    /// A string, escapes decoded.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object's members in file order; the parser refuses duplicate keys.
    case object([JSONMember])

    /// What kind of value this is, for messages ("found a string").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Compact JSON text of the value, members in file order, for showing a
    /// route in a summary. Not escaped for terminals: wrap it in `Escaped`.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return sortedMembers(a).elementsEqual(sortedMembers(b)) { x, y in
                x.key.utf8.elementsEqual(y.key.utf8) && x.value == y.value
            }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b):
            hasher.combine(1)
            hasher.combine(b)
        case .number(let n):
            hasher.combine(2)
            Self.hashBytes(n, into: &hasher)
        case .string(let s):
            hasher.combine(3)
            Self.hashBytes(s, into: &hasher)
        case .array(let values):
            hasher.combine(4)
            hasher.combine(values.count)
            for value in values { hasher.combine(value) }
        case .object(let members):
            hasher.combine(5)
            hasher.combine(members.count)
            for member in Self.sortedMembers(members) {
                Self.hashBytes(member.key, into: &hasher)
                hasher.combine(member.value)
            }
        }
    }

    private static func sortedMembers(_ members: [JSONMember]) -> [JSONMember] {
        members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    private static func hashBytes(_ text: String, into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        for byte in text.utf8 { hasher.combine(byte) }
    }

    /// Compact JSON text with every object's members sorted by their keys'
    /// UTF-8 bytes, at every depth: one text per JSON value whatever the key
    /// order or whitespace of the file it came from. Numbers keep their literal
    /// text. What the host's decision MAC covers (``DecisionSeal``).
    public var canonicalText: String {
        var out = ""
        write(to: &out, sorted: true)
        return out
    }

    private func write(to out: inout String, sorted: Bool = false) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let values):
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += "," }
                value.write(to: &out, sorted: sorted)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in (sorted ? Self.sortedMembers(members) : members).enumerated() {
                if i > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out, sorted: sorted)
            }
            out += "}"
        }
    }

    static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// One `"key": value` member of a JSON object, in file order.
public struct JSONMember: Sendable, Hashable {
    /// The member's key, escapes decoded.
    public let key: String
    /// The member's value.
    public let value: JSONValue

    /// A member `key: value`.
    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }

    public static func == (lhs: JSONMember, rhs: JSONMember) -> Bool {
        lhs.key.utf8.elementsEqual(rhs.key.utf8) && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key.utf8.count)
        for byte in key.utf8 { hasher.combine(byte) }
        hasher.combine(value)
    }
}
