/// Turns what ``JSONParser`` reads into a caller's own values.
///
/// The grammar, positions, limits and error messages live in the parser
/// once; a builder only decides the representation: the sidecar builds the
/// MCP SDK's `Value` straight from the bytes (no intermediate tree on the
/// hot path), the validator builds ``JSONNode``s that remember where each
/// value starts. The parser is generic and `@inlinable`, so each builder gets
/// a specialised parser with no dynamic dispatch.
public protocol JSONBuilder {
    associatedtype Value
    /// An object being filled.
    associatedtype Object
    /// An array being filled.
    associatedtype Array

    /// A string value (escapes decoded).
    mutating func string(_ text: String, at position: JSONPosition) -> Value
    /// A number, as its literal text (valid JSON grammar); `isInteger` when
    /// it has no fraction and no exponent. `nil` when the builder cannot
    /// represent it (the parser then refuses the text).
    mutating func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition) -> Value?
    /// `true` or `false`.
    mutating func bool(_ value: Bool, at position: JSONPosition) -> Value
    /// `null`.
    mutating func null(at position: JSONPosition) -> Value

    /// An object starts at `position`.
    mutating func beginObject(at position: JSONPosition) -> Object
    /// Adds `key: value`; says whether the key was already in `object`
    /// (the parser applies the duplicate-key policy).
    mutating func addMember(
        _ key: String, at keyPosition: JSONPosition, value: Value, to object: inout Object
    ) -> JSONMemberInsertion
    /// The object that started at `position` is complete.
    mutating func endObject(_ object: Object, at position: JSONPosition) -> Value

    /// An array starts at `position`.
    mutating func beginArray(at position: JSONPosition) -> Array
    /// Appends an element.
    mutating func append(_ value: Value, to array: inout Array)
    /// The array that started at `position` is complete.
    mutating func endArray(_ array: Array, at position: JSONPosition) -> Value
}
