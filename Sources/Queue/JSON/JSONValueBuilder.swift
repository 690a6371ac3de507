/// Builds ``JSONValue``s from what ``JSONParser`` reads: members in the
/// order they were written, numbers as their literal text.
///
/// The project's one builder of plain JSON values: the sidecar's request
/// reader, the container engine's `inspect` output and the host's MCP client
/// all read through it, so they agree on what a duplicate key is. Two keys
/// are the same key when their UTF-8 bytes are equal, as the strict parser
/// defines it (and as ``JSONValue``'s equality compares): `"é"` written
/// precomposed and `"e\u{301}"` are two keys, whereas Swift's `String ==`
/// (canonical equivalence) would call them one. The validator, which must
/// also catch keys a case-insensitive reader folds together, keeps its own
/// folding builder (``StrictJSONParser``).
///
/// Small objects are checked by a scan of their members; from
/// ``indexThreshold`` members on, by a set of the keys' bytes, so a body of
/// 100,000 members costs 100,000 lookups, not their square.
public struct JSONValueBuilder: JSONBuilder {
    /// From how many members on an object's keys are looked up in a set.
    @usableFromInline static let indexThreshold = 16

    /// An object being filled: its members, and, once it is large, their keys.
    public struct Object {
        @usableFromInline var members: [JSONMember] = []
        @usableFromInline var index: Set<KeyBytes>?

        @inlinable init() {}
    }

    /// A key hashed and compared by its UTF-8 bytes.
    @usableFromInline
    struct KeyBytes: Hashable {
        @usableFromInline var text: String

        @inlinable init(_ text: String) { self.text = text }

        @inlinable static func == (lhs: KeyBytes, rhs: KeyBytes) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

        @inlinable func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// A builder (it keeps no state between values).
    @inlinable public init() {}

    @inlinable public func string(_ text: String, at position: JSONPosition) -> JSONValue { .string(text) }

    @inlinable
    public func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition) -> JSONValue? {
        .number(String(decoding: text, as: UTF8.self))
    }

    @inlinable public func bool(_ value: Bool, at position: JSONPosition) -> JSONValue { .bool(value) }

    @inlinable public func null(at position: JSONPosition) -> JSONValue { .null }

    @inlinable public func beginObject(at position: JSONPosition) -> Object { Object() }

    @inlinable
    public func addMember(_ key: String, at keyPosition: JSONPosition, value: JSONValue, to object: inout Object)
        -> JSONMemberInsertion
    {
        if object.index != nil {
            guard object.index!.insert(KeyBytes(key)).inserted else { return .duplicate(firstAt: nil) }
        } else if object.members.contains(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
            return .duplicate(firstAt: nil)
        }
        object.members.append(JSONMember(key: key, value: value))
        if object.index == nil, object.members.count == Self.indexThreshold {
            object.index = Set(object.members.map { KeyBytes($0.key) })
        }
        return .inserted
    }

    @inlinable public func endObject(_ object: Object, at position: JSONPosition) -> JSONValue {
        .object(object.members)
    }

    @inlinable public func beginArray(at position: JSONPosition) -> [JSONValue] { [] }

    @inlinable public func append(_ value: JSONValue, to array: inout [JSONValue]) { array.append(value) }

    @inlinable public func endArray(_ array: [JSONValue], at position: JSONPosition) -> JSONValue { .array(array) }
}

extension JSONValue {
    /// The one JSON value in `bytes`, read with `policy`; duplicate keys by
    /// the bytes rule of ``JSONValueBuilder``.
    @inlinable
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, policy: JSONPolicy) throws(JSONSyntaxError)
        -> JSONValue
    {
        var parser = JSONParser(bytes: bytes, policy: policy, builder: JSONValueBuilder())
        return try parser.parseDocument()
    }

    /// The one JSON value in `text`, read with `policy`.
    public static func parse(_ text: String, policy: JSONPolicy) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONSyntaxError> = text.withUTF8 { bytes in
            do throws(JSONSyntaxError) {
                return .success(try parse(bytes, policy: policy))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
