import Foundation
import Testing

/// How `bottle-supervise web` stops (docs/concurrency.md, "How each process
/// shuts down"): SIGTERM ends every page's event stream and the process
/// exits, even while a page is open — a page's stream never ends on its own,
/// and the server's graceful shutdown waits for responses in flight.
@Suite("Web console: shutdown", .serialized)
struct WebConsoleShutdownTests {
    let scratch = Scratch()

    @Test("SIGTERM with a page's event stream open: the stream ends and web exits 0 within seconds")
    func sigtermWithAnOpenPage() async throws {
        try FileManager.default.createDirectory(atPath: scratch.path + "/queue", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/bottles", withIntermediateDirectories: true)
        let (web, loginURL) = try await WebBrowser.startWebConsole(in: scratch)
        var exited = false
        defer { if !exited { WebBrowser.stop(web) } }
        let login = try #require(URLComponents(string: loginURL))
        let port = try #require(login.port, "no port in \(loginURL)")

        let loggedIn = try RawHTTP.exchange(
            port: port, "GET \(login.path)?\(login.query ?? "") HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
                + "Connection: close\r\n\r\n", until: "\r\n\r\n")
        let cookie = try #require(
            loggedIn.text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }
                .map { $0.dropFirst("set-cookie:".count).split(separator: ";")[0].trimmingCharacters(in: .whitespaces) },
            "no session cookie in \(loggedIn.text)")

        let page = try RawHTTP.open(port: port)
        defer { close(page) }
        try RawHTTP.send(
            page, "GET /events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nCookie: \(cookie)\r\nAccept: text/event-stream\r\n\r\n")
        let opened = RawHTTP.read(page, until: "retry: 1000", timeout: .seconds(10))
        #expect(opened.text.contains("text/event-stream"), "\(opened.text)")
        #expect(opened.text.contains("retry: 1000"), "the stream did not open: \(opened.text)")

        kill(web, SIGTERM)
        var status: Int32 = 0
        exited = await ApplyFixtures.eventually(timeout: .seconds(10)) { waitpid(web, &status, WNOHANG) == web }
        #expect(exited, "web was still running 10 s after SIGTERM with a page open")
        if exited {
            #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "web did not exit 0 (wait status \(status))")
        }
        // The page was told: its stream ended (the connection closed), not cut by a kill.
        let rest = RawHTTP.read(page, until: nil, timeout: .seconds(5))
        #expect(rest.ended, "the page's stream did not end: \(rest.text)")
    }
}

/// HTTP/1.1 by hand over a loopback socket, for a response that never ends on its own (an event stream).
enum RawHTTP {
    static func open(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw E2EFailure("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
        // Reads wake at least every 200 ms, so `read(_:until:timeout:)` keeps its deadline.
        var wake = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wake, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw E2EFailure("cannot send the request: errno \(errno)")
        }
    }

    /// What arrived until `marker` was seen, the peer closed (`ended`), or `timeout` passed.
    static func read(_ fd: Int32, until marker: String?, timeout: Duration) -> (text: String, ended: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return (String(decoding: received, as: UTF8.self), true)
            }
            received += buffer[0..<count]
            if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// One request on a connection of its own, read until `marker`.
    static func exchange(port: Int, _ request: String, until marker: String) throws -> (text: String, ended: Bool) {
        let fd = try open(port: port)
        defer { close(fd) }
        try send(fd, request)
        return read(fd, until: marker, timeout: .seconds(10))
    }
}
