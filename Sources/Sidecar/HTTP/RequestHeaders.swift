import NIOHTTP1

/// The request headers the sidecar reads, found in one pass over the head.
///
/// `HTTPHeaders.first(name:)` scans every header with a case-insensitive
/// comparison; a `POST /mcp` consults nine of them, so looking each up
/// separately costs nine scans on the hottest path (`tools/list` at tens of
/// thousands a second). The first occurrence of each header counts, as with
/// `first(name:)` — except for the headers a request is routed or checked by
/// (`Host`, `Mcp-Method`, `Mcp-Name`, `MCP-Protocol-Version`): a second copy
/// is recorded in ``repeated``, and the request refused, because a proxy that
/// reads the last copy and this server reading the first would disagree about
/// what the request is.
struct RequestHeaders {
    var contentLength: Int?
    var expectsContinue = false
    var origin: String?
    var host: String?
    var session: String?
    var protocolVersion: String?
    /// `Mcp-Method` (2026-07-28): the JSON-RPC method, mirrored from the body.
    var method: String?
    /// `Mcp-Name` (2026-07-28): the tool name of a `tools/call`, mirrored from the body.
    var name: String?
    /// The first routing header that appeared more than once (lowercased);
    /// `host` whenever `Host` did, whatever came before it.
    var repeated: String?
    /// Whether an `Accept` header names `text/event-stream`.
    var acceptsEventStream = false

    init(_ headers: HTTPHeaders) {
        var sawContentLength = false
        var sawExpect = false
        for (name, value) in headers {
            switch name.utf8.count {
            case 4 where Self.named(name, "host"):
                // A repeated Host wins over any other repeated header: the responder refuses it (421)
                // on every route, before the transport rules, which only single POSTs reach.
                if host == nil { host = value } else { repeated = "host" }
            case 6 where Self.named(name, "accept"):
                if Self.mentions(value, "text/event-stream") { acceptsEventStream = true }
            case 6 where Self.named(name, "expect"):
                if !sawExpect { expectsContinue = Self.named(value, "100-continue") }
                sawExpect = true
            case 6 where Self.named(name, "origin"):
                if origin == nil { origin = value }
            case 14 where Self.named(name, "content-length"):
                if !sawContentLength { contentLength = Int(value) }
                sawContentLength = true
            case 14 where Self.named(name, "mcp-session-id"):
                if session == nil { session = value }
            case 20 where Self.named(name, "mcp-protocol-version"):
                if protocolVersion == nil { protocolVersion = value } else { repeated = repeated ?? "mcp-protocol-version" }
            case 10 where Self.named(name, "mcp-method"):
                if method == nil { method = value } else { repeated = repeated ?? "mcp-method" }
            case 8 where Self.named(name, "mcp-name"):
                if self.name == nil { self.name = value } else { repeated = repeated ?? "mcp-name" }
            default:
                break
            }
        }
    }

    /// Whether `text` contains `word` (a byte search: `String.contains`
    /// allocates a searcher per call).
    private static func mentions(_ text: String, _ word: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            let count = word.utf8CodeUnitCount
            guard bytes.count >= count else { return false }
            let needle = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for start in 0...(bytes.count - count)
            where bytes[start] == needle[0]
                && UnsafeBufferPointer(rebasing: bytes[start..<start + count]).elementsEqual(needle)
            {
                return true
            }
            return false
        }
    }

    /// Whether `text` is `lowercased` up to ASCII case.
    private static func named(_ text: String, _ lowercased: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
            let expected = lowercased.utf8Start
            for index in 0..<bytes.count {
                var byte = bytes[index]
                if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { byte += 32 }
                if byte != expected[index] { return false }
            }
            return true
        }
    }
}
