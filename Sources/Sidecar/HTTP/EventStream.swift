import NIOCore

/// Server-sent events, as a held call's response stream uses them: the
/// head's headers, a JSON-RPC message as an event, a comment as a keep-alive.
enum EventStream {
    /// The response headers of a held call's stream.
    static let headers: [(String, String)] = [
        ("Content-Type", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        // A reverse proxy (nginx) in front must not buffer the keep-alives away.
        ("X-Accel-Buffering", "no"),
    ]

    /// `json` as one `message` event.
    static func message(_ json: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: message\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// A comment line: clients ignore it, proxies and idle timers see traffic.
    static func comment(_ text: String) -> ByteBuffer {
        ByteBuffer(string: ": \(text)\n\n")
    }
}
