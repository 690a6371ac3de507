import Queue

/// Reads what a container engine prints (`inspect`, `image inspect`) with
/// the project's one strict JSON parser, into ``JSONValue``s.
///
/// The engine is the operator's, but the values it reports come partly from
/// an image the agent wrote (its `ENV`, `LABEL`, `CMD`…), so the text is
/// read as any other input: bounded in size by the caller, nesting capped by
/// the parser, a duplicate key refused (two readers could disagree about it),
/// and a field of the wrong type is an error naming the field, never a
/// silent default.
enum EngineJSON {
    /// Parses `text` as one JSON document (a duplicate key refused, by the
    /// bytes rule of ``JSONValueBuilder``).
    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONValue.parse(text, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace))
    }
}

/// A field of an engine's `inspect` output that is not what the engine
/// documents: the replacement stops before it changes anything.
struct EngineFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field's path, e.g. `Config.Env[3]`.
    let field: String
    /// What was expected there.
    let expected: String

    var description: String { "the engine's inspect output has \(field) that is not \(expected)" }
}

/// Typed access to an inspected object: each accessor treats a missing
/// field or `null` as absent and any other type as an ``EngineFieldError``.
struct InspectedObject {
    let value: JSONValue
    /// Where this object is in the document, for messages (`Config`, `HostConfig`…).
    let path: String

    init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    private func field(_ key: String) -> JSONValue? {
        guard let found = value[key], found != .null else { return nil }
        return found
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Whether `key` holds a non-empty array, whatever its elements are: for
    /// a field whose presence alone matters (a user-namespace mapping).
    func hasElements(_ key: String) -> Bool {
        guard case .array(let values)? = field(key) else { return false }
        return !values.isEmpty
    }

    func string(_ key: String) throws(EngineFieldError) -> String? {
        guard let found = field(key) else { return nil }
        guard case .string(let text) = found else { throw EngineFieldError(field: name(key), expected: "a string") }
        return text
    }

    func bool(_ key: String) throws(EngineFieldError) -> Bool? {
        guard let found = field(key) else { return nil }
        guard case .bool(let flag) = found else { throw EngineFieldError(field: name(key), expected: "a boolean") }
        return flag
    }

    func integer(_ key: String) throws(EngineFieldError) -> Int64? {
        guard let found = field(key) else { return nil }
        guard case .number(let text) = found, let number = Int64(text) else {
            throw EngineFieldError(field: name(key), expected: "an integer")
        }
        return number
    }

    func strings(_ key: String) throws(EngineFieldError) -> [String]? {
        guard let found = field(key) else { return nil }
        guard case .array(let values) = found else {
            throw EngineFieldError(field: name(key), expected: "an array of strings")
        }
        var out: [String] = []
        for (index, element) in values.enumerated() {
            guard case .string(let text) = element else {
                throw EngineFieldError(field: "\(name(key))[\(index)]", expected: "a string")
            }
            out.append(text)
        }
        return out
    }

    /// An object of string values (labels, tmpfs options), in document order.
    func stringMap(_ key: String) throws(EngineFieldError) -> [(key: String, value: String)]? {
        guard let found = field(key) else { return nil }
        guard case .object(let members) = found else {
            throw EngineFieldError(field: name(key), expected: "an object of strings")
        }
        var out: [(key: String, value: String)] = []
        for member in members {
            guard case .string(let text) = member.value else {
                throw EngineFieldError(field: "\(name(key)).\(member.key)", expected: "a string")
            }
            out.append((member.key, text))
        }
        return out
    }

    func object(_ key: String) throws(EngineFieldError) -> InspectedObject? {
        guard let found = field(key) else { return nil }
        guard case .object = found else { throw EngineFieldError(field: name(key), expected: "an object") }
        return InspectedObject(found, path: name(key))
    }

    /// The members of an object field, each as an ``InspectedObject`` (networks by name, ports by key).
    func members(_ key: String) throws(EngineFieldError) -> [(key: String, value: JSONValue)] {
        guard let found = field(key) else { return [] }
        guard case .object(let members) = found else {
            throw EngineFieldError(field: name(key), expected: "an object")
        }
        return members.map { ($0.key, $0.value) }
    }

    func objects(_ key: String) throws(EngineFieldError) -> [InspectedObject] {
        guard let found = field(key) else { return [] }
        guard case .array(let values) = found else { throw EngineFieldError(field: name(key), expected: "an array") }
        var out: [InspectedObject] = []
        for (index, element) in values.enumerated() {
            guard case .object = element else {
                throw EngineFieldError(field: "\(name(key))[\(index)]", expected: "an object")
            }
            out.append(InspectedObject(element, path: "\(name(key))[\(index)]"))
        }
        return out
    }
}
