import Queue

/// JSON text to the project's ``JSONValue``, in one pass over the bytes,
/// through the shared strict parser (`Queue`'s ``JSONParser``) and its one
/// value builder (``JSONValueBuilder``).
///
/// Not `JSONDecoder`: decoding a value tree through it was once the
/// sidecar's largest cost (docs/architecture.md), and it would bring
/// Foundation into the sidecar. Here a string is a string and a number keeps
/// its literal text.
///
/// Policy (docs/sidecar.md): a duplicate key (two keys with the same UTF-8
/// bytes) refuses the body (-32700), as the validator refuses one in
/// routes.json, so no member is silently dropped; a lone surrogate escape
/// becomes U+FFFD, as invalid UTF-8 does — the value is decoded once, here,
/// and re-encoded as valid UTF-8, so the repair cannot make two readers
/// disagree, and one odd character in a justification does not cost the
/// agent its whole call.
enum JSONReader {
    /// How deep arrays and objects may nest.
    static let maximumDepth = JSONLimits.maximumDepth

    /// Why a text is not JSON, and where reading stopped.
    struct Failure: Error, Sendable {
        var reason: String
        var offset: Int
        var line: Int
        var column: Int
    }

    static let policy = JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace)

    /// The value of `bytes`, which must hold exactly one JSON value.
    static func value(of bytes: [UInt8]) throws(Failure) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> JSONValue in try value(of: buffer) }
    }

    /// The value of `bytes`, read in place (a request body in a `ByteBuffer`).
    static func value(of bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        do {
            return try JSONValue.parse(bytes, policy: policy)
        } catch {
            throw Failure(
                reason: error.message, offset: error.position.offset, line: error.position.line, column: error.column)
        }
    }
}
