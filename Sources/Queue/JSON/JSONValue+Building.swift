/// Writing JSON values in code: literals, members set by key, and the
/// accessors a protocol reader needs (the sidecar's JSON-RPC messages and
/// tool answers are built and read as ``JSONValue``s).
///
/// A dictionary literal keeps the order it is written in, so an answer's
/// bytes are the same in every run (a Swift `Dictionary` would not be).
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }

    public init(integerLiteral value: Int) { self = .integer(value) }

    public init(booleanLiteral value: Bool) { self = .bool(value) }

    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { JSONMember(key: $0.0, value: $0.1) })
    }

    /// An object with `members` in the order written: `.object(["type": "string"])`.
    public static func object(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(members.map { JSONMember(key: $0.key, value: $0.value) })
    }

    /// The integer `value` as a JSON number.
    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer, if this is a number written without fraction or exponent
    /// that fits an `Int` (a JSON-RPC id, a progress token).
    public var integerValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// Whether this is an object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// The keys of an object in order; empty for any other value.
    public var keys: [String] {
        guard case .object(let members) = self else { return [] }
        return members.map(\.key)
    }

    /// Member `key` of an object: reading gives its value (`nil` when absent
    /// or when this is not an object); writing replaces the value in place,
    /// appends a new member, or with `nil` removes it. Keys compare by their
    /// bytes, as ``JSONValueBuilder`` compares them. Only an object has
    /// members: writing one into any other value is a programming error.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
        }
        set {
            guard case .object(var members) = self else {
                preconditionFailure("member \(key) set on \(kindName), which is not an object")
            }
            let index = members.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
            switch (index, newValue) {
            case (let index?, let value?): members[index] = JSONMember(key: key, value: value)
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append(JSONMember(key: key, value: value))
            case (nil, nil): return
            }
            self = .object(members)
        }
    }

    /// Compact JSON text as UTF-8 bytes (what goes on the wire).
    public var jsonBytes: [UInt8] { Array(description.utf8) }

    /// `text` as a JSON string literal, quotes included, escaped as
    /// ``description`` escapes strings.
    public static func quoted(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        writeString(text, to: &out)
        return out
    }
}
