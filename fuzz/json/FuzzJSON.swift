import Queue

/// libFuzzer entry: every input through the shared JSON parser, as the
/// sidecar reads a request body (and decodes its JSON-RPC envelope) and as
/// the validator reads a routes.json.
///
/// Beyond "no crash, no hang": a text either parser accepts must survive a
/// round trip (printed and parsed again, the same value), the strict policy
/// may accept only what the lenient one accepts, and every error's position
/// must lie inside the text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    // The sidecar's reader (JSONValue, its policy), on the raw bytes, and the JSON-RPC
    // envelope decoder on top of it: a body the reader refuses is -32700,
    // one it accepts never is.
    let sidecarAccepted = (try? JSONReader.value(of: bytes)) != nil
    if case .failure(let failure) = RPCMessage.decode(bytes), (failure.error.code == -32700) == sidecarAccepted {
        fatalError("the envelope decoder and the reader disagree on whether this is JSON")
    }

    // The parser with both policies, building JSONValue.
    let strict = parse(bytes, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .refuse))
    let lenient = parse(bytes, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace))
    if case .success(let value) = strict {
        guard case .success(let same) = lenient, same == value else {
            fatalError("the strict policy accepted a text the lenient one refused or read differently")
        }
    }
    if case .success(let value) = lenient {
        check(roundTripOf: value)
        guard sidecarAccepted else { fatalError("the sidecar refused a text the parser accepts") }
    }

    // The validator's reading of the same text as a routes.json.
    _ = try? RoutesDocument.parse(String(decoding: bytes, as: UTF8.self))
    return 0
}

private func parse(_ bytes: UnsafeBufferPointer<UInt8>, policy: JSONPolicy) -> Result<JSONValue, JSONSyntaxError> {
    do throws(JSONSyntaxError) {
        return .success(try JSONValue.parse(bytes, policy: policy))
    } catch {
        let position = error.position
        guard position.offset >= 0, position.offset <= bytes.count, position.line >= 1,
            position.lineStart <= position.offset, error.column >= 1, !error.message.isEmpty
        else { fatalError("an error position outside the text: \(position), column \(error.column)") }
        return .failure(error)
    }
}

private func check(roundTripOf value: JSONValue) {
    var text = value.description
    let again = text.withUTF8 { parse($0, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .refuse)) }
    guard case .success(let reread) = again, reread == value else {
        fatalError("a value did not survive printing and parsing again: \(text)")
    }
}
