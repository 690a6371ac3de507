import FoundationEssentials

/// The top-level members of one queue file (`<id>.proposal.json`,
/// `<id>.decision.json`), read by the shared strict parser (``JSONParser``).
///
/// Every host read of a queue file passes through here first, whichever
/// decoder then makes a record of it: the listing's fast path
/// (``Proposal/listed(from:path:)``) maps these members straight to a
/// ``Proposal``, and the full decode (``QueueFormat/decode(_:from:path:)``)
/// hands the bytes to `JSONDecoder` only after they passed here. So the two
/// cannot disagree about what a file *says*. On its own, Foundation's reader
/// keeps the *first* of two duplicate keys (jq and Python keep the last),
/// skips a byte order mark, allows a trailing comma and nests without limit;
/// a sidecar that wanted the operator's screen and a script's view of one
/// proposal to differ would write exactly that. Here a duplicate key, a lone
/// surrogate escape, invalid UTF-8, a byte order mark, a trailing comma or
/// nesting past ``JSONLimits/maximumDepth`` levels refuses the file
/// (docs/security.md, "Reading the queue fast").
struct QueueFileFields {
    /// A member's value: scalars as read, containers only as their kind (no
    /// queue field the host reads is nested in a proposal, and a decision's
    /// `apply` object is left to the full decode).
    enum Value {
        case string(String)
        /// The literal's text, and whether it has no fraction or exponent.
        case number(String, isInteger: Bool)
        case bool(Bool)
        case null
        case array
        indirect case object(Members)

        /// What kind of value this is, for messages ("found a number").
        var kindName: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .bool: "a boolean"
            case .null: "null"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    /// The members of one object, in file order, each key once.
    ///
    /// A queue record has about ten: they are kept in an array and a new key
    /// is compared with each (hashing ten keys into a dictionary cost more
    /// than the rest of the parse). Past ``indexedFrom`` members a
    /// dictionary takes over, so a hostile object of a million keys is
    /// still checked for duplicates in linear time.
    struct Members {
        static let indexedFrom = 16
        private(set) var pairs: [(key: String, value: Value)] = []
        private var index: [String: Int]?

        /// Adds `key`; `false` (and nothing added) when it is already there.
        mutating func add(_ key: String, _ value: Value) -> Bool {
            if index != nil {
                guard index?[key] == nil else { return false }
                index?[key] = pairs.count
            } else {
                for pair in pairs where pair.key == key { return false }
                if pairs.count + 1 >= Self.indexedFrom {
                    var built = [String: Int](minimumCapacity: 2 * Self.indexedFrom)
                    for (position, pair) in pairs.enumerated() { built[pair.key] = position }
                    built[key] = pairs.count
                    index = built
                }
            }
            pairs.append((key, value))
            return true
        }

        subscript(key: String) -> Value? {
            if let index { return index[key].map { pairs[$0].value } }
            return pairs.first { $0.key == key }?.value
        }
    }

    /// The members of the file's top-level object.
    let members: Members

    /// Parses a queue file's bytes.
    /// - Parameter path: named in errors, so the operator knows which file is bad.
    /// - Throws: ``QueueError/malformedFile(path:reason:)`` saying where the
    ///   text stops being strict JSON, or that it is not an object.
    init(_ data: Data, path: () -> String) throws(QueueError) {
        let result: Result<Value, JSONSyntaxError>? = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            // The tokenizer reads invalid UTF-8 inside a string as U+FFFD; a queue file must not need repairing.
            guard Self.isUTF8(bytes) else { return nil }
            var parser = JSONParser(
                bytes: bytes, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .refuse),
                builder: MemberBuilder())
            do throws(JSONSyntaxError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case nil:
            throw .malformedFile(path: path(), reason: "not valid JSON: it is not UTF-8 text")
        case .failure(let error)?:
            throw .malformedFile(path: path(), reason: "not valid JSON: \(error)")
        case .success(.object(let members))?:
            self.members = members
        case .success(let other)?:
            throw .malformedFile(path: path(), reason: "not a JSON object but \(other.kindName)")
        }
    }

    /// Whether `bytes` are valid UTF-8: a byte loop for the usual all-ASCII
    /// file, the standard library's validation otherwise.
    private static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var ascii: UInt8 = 0
        for byte in bytes { ascii |= byte }
        return ascii < 0x80 || String(validating: bytes, as: UTF8.self) != nil
    }

    /// Keeps each object's members (for the duplicate-key check and the top
    /// level's values) and nothing of arrays but that they were there.
    struct MemberBuilder: JSONBuilder {
        typealias Object = Members
        typealias Array = Void

        func string(_ text: String, at position: JSONPosition) -> QueueFileFields.Value { .string(text) }

        func number(_ text: UnsafeBufferPointer<UInt8>, isInteger: Bool, at position: JSONPosition)
            -> QueueFileFields.Value?
        {
            .number(String(decoding: text, as: UTF8.self), isInteger: isInteger)
        }

        func bool(_ value: Bool, at position: JSONPosition) -> QueueFileFields.Value { .bool(value) }
        func null(at position: JSONPosition) -> QueueFileFields.Value { .null }

        func beginObject(at position: JSONPosition) -> Object { Members() }

        func addMember(
            _ key: String, at keyPosition: JSONPosition, value: QueueFileFields.Value, to object: inout Object
        )
            -> JSONMemberInsertion
        {
            object.add(key, value) ? .inserted : .duplicate(firstAt: nil)
        }

        func endObject(_ object: Object, at position: JSONPosition) -> QueueFileFields.Value { .object(object) }
        func beginArray(at position: JSONPosition) {}
        func append(_ value: QueueFileFields.Value, to array: inout Void) {}
        func endArray(_ array: Void, at position: JSONPosition) -> QueueFileFields.Value { .array }
    }

    // MARK: - Typed access, worded as the full decode words its errors

    /// The string member `key`.
    func string(_ key: String, path: () -> String) throws(QueueError) -> String {
        switch members[key] {
        case .string(let text)?: return text
        case nil: throw .malformedFile(path: path(), reason: "missing field \(key)")
        case let other?: throw mismatch(key, expected: "a string", found: other, path: path)
        }
    }

    /// The member `key` when it is a string; `nil` when it is absent or null.
    func optionalString(_ key: String, path: () -> String) throws(QueueError) -> String? {
        switch members[key] {
        case .string(let text)?: return text
        case nil, .null?: return nil
        case let other?: throw mismatch(key, expected: "a string or null", found: other, path: path)
        }
    }

    /// The member `key` as an `Int`, read as `JSONDecoder` reads one: an
    /// integer literal, or a number with an exact integer value (`1.0`,
    /// `1e0`); `nil` when absent.
    func integer(_ key: String, path: () -> String) throws(QueueError) -> Int? {
        switch members[key] {
        case nil: return nil
        case .number(let text, let isInteger)?:
            if isInteger, let value = Int(text) { return value }
            if !isInteger, let value = Double(text), value.isFinite, value.rounded() == value,
                let exact = Int(exactly: value)
            {
                return exact
            }
            throw .malformedFile(
                path: path(), reason: "field \(key): the number \(text) is not an integer this build reads")
        case let other?: throw mismatch(key, expected: "an integer", found: other, path: path)
        }
    }

    private func mismatch(_ key: String, expected: String, found: Value, path: () -> String) -> QueueError {
        .malformedFile(path: path(), reason: "field \(key): expected \(expected), found \(found.kindName)")
    }
}
