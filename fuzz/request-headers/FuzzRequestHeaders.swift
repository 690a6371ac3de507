import NIOHTTP1

/// libFuzzer entry: the sidecar's one-pass request-header reader
/// (`RequestHeaders`, Sources/Sidecar/HTTP), against NIO's own lookups.
///
/// The input is split into header lines (`\n`), each `name:value`, and kept
/// to what NIO's HTTP decoder (llhttp) can hand over: a name of RFC 9110
/// token characters, a value without CR, LF or NUL; other lines are skipped. `RequestHeaders` promises the first occurrence of each
/// header counts, as with `HTTPHeaders.first(name:)`; the fuzzer checks that
/// promise for every field, so a fast path that drifts from NIO is a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestHeaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var headers = HTTPHeaders()
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon]
        let value = line[line.index(after: colon)...]
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte), !value.utf8.contains(where: { $0 == 0 || $0 == 13 })
        else { continue }
        headers.add(name: String(name), value: String(value))
    }
    let read = RequestHeaders(headers)
    expect(read.host == headers.first(name: "host"), "host", headers)
    expect(read.origin == headers.first(name: "origin"), "origin", headers)
    expect(read.session == headers.first(name: "mcp-session-id"), "mcp-session-id", headers)
    expect(read.protocolVersion == headers.first(name: "mcp-protocol-version"), "mcp-protocol-version", headers)
    expect(read.contentLength == headers.first(name: "content-length").flatMap { Int($0) }, "content-length", headers)
    let expect100 = headers.first(name: "expect").map { asciiLowercased($0) == "100-continue" } ?? false
    expect(read.expectsContinue == expect100, "expect", headers)
    let eventStream = headers["accept"].contains { $0.utf8.contains("text/event-stream".utf8) }
    expect(read.acceptsEventStream == eventStream, "accept", headers)
    return 0
}

private func expect(_ condition: Bool, _ field: String, _ headers: HTTPHeaders) {
    if !condition { fatalError("RequestHeaders disagrees with NIO on \(field): \(headers)") }
}

/// RFC 9110 `tchar`: the bytes a header name may hold.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "A")...UInt8(ascii: "Z"):
        true
    default:
        "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

/// `text` with A-Z lowered and nothing else touched (HTTP's case-insensitivity).
private func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

extension String.UTF8View {
    /// Whether `needle` occurs as a contiguous run of bytes.
    fileprivate func contains(_ needle: String.UTF8View) -> Bool {
        let haystack = Array(self)
        let word = Array(needle)
        guard haystack.count >= word.count else { return false }
        return (0...(haystack.count - word.count)).contains { haystack[$0..<$0 + word.count].elementsEqual(word) }
    }
}
