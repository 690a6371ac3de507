import Foundation
import Testing

@testable import Sidecar

/// The container's health check against peers that answer, refuse, stay
/// silent or babble: it always decides, and within its deadline.
@Suite struct HealthProbeTests {
    @Test func a200IsHealthy() throws {
        let peer = try TestPeer(reply: "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n")
        #expect(HealthProbe(address: "127.0.0.1", port: peer.port, timeout: .seconds(2)).run() == .healthy)
        #expect(peer.request.hasPrefix("GET /health HTTP/1.1\r\nHost: 127.0.0.1:\(peer.port)\r\n"), "\(peer.request)")
    }

    @Test func anotherStatusIsUnhealthyAndSaysWhich() throws {
        let peer = try TestPeer(reply: "HTTP/1.1 421 Misdirected Request\r\n\r\n")
        let outcome = HealthProbe(address: "127.0.0.1", port: peer.port, timeout: .seconds(2)).run()
        #expect(outcome == .unhealthy("127.0.0.1:\(peer.port) answered /health with HTTP/1.1 421 Misdirected Request"))
    }

    @Test func aRefusedConnectionIsUnhealthyAtOnce() throws {
        let port = TestPeer.unusedPort()
        let started = ContinuousClock.now
        let outcome = HealthProbe(address: "127.0.0.1", port: port, timeout: .seconds(5)).run()
        #expect(outcome == .unhealthy("cannot connect to 127.0.0.1:\(port): Connection refused"))
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test("a peer that accepts and never answers: unhealthy when the time is up, not later")
    func silence() throws {
        let peer = try TestPeer(reply: nil)
        let started = ContinuousClock.now
        let outcome = HealthProbe(address: "127.0.0.1", port: peer.port, timeout: .milliseconds(300)).run()
        let took = ContinuousClock.now - started
        #expect(outcome == .unhealthy("127.0.0.1:\(peer.port) did not answer /health within 0.3 seconds"))
        #expect(took >= .milliseconds(250) && took < .seconds(2), "\(took)")
    }

    @Test("endless bytes without a line end: unhealthy after 4 KiB, escape sequences not echoed")
    func babble() throws {
        let peer = try TestPeer(reply: String(repeating: "\u{1b}[2J", count: 2000))
        let outcome = HealthProbe(address: "127.0.0.1", port: peer.port, timeout: .seconds(2)).run()
        #expect(outcome == .unhealthy("127.0.0.1:\(peer.port) sent 4096 bytes without a status line"))
        let garbage = try TestPeer(reply: "\u{1b}]0;owned\u{7}\n")
        let shown = HealthProbe(address: "127.0.0.1", port: garbage.port, timeout: .seconds(2)).run()
        guard case .unhealthy(let text) = shown else { Issue.record("healthy?"); return }
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 }, "\(text)")
    }

    @Test func addressesForBinds() {
        #expect(HealthProbe.address(forBind: "0.0.0.0") == "127.0.0.1")
        #expect(HealthProbe.address(forBind: "") == "127.0.0.1")
        #expect(HealthProbe.address(forBind: "::") == "::1")
        #expect(HealthProbe.address(forBind: "[::1]") == "::1")
        #expect(HealthProbe.address(forBind: "10.0.0.5") == "10.0.0.5")
        #expect(HealthProbe(address: "localhost", port: 1, timeout: .seconds(1)).run()
            == .unhealthy("localhost is not a numeric IP address"))
    }
}

/// A TCP listener on loopback that accepts one connection, reads the
/// request, and writes `reply` (or nothing, holding the connection open).
private final class TestPeer: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let done = DispatchSemaphore(value: 0)
    private var received = ""
    private var connection: Int32 = -1

    var request: String {
        _ = done.wait(timeout: .now() + 2)
        return received
    }

    init(reply: String?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        serve(reply: reply)
    }

    private func serve(reply: String?) {
        let listener = fd
        Thread.detachNewThread { [self] in
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            connection = client
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = recv(client, &buffer, buffer.count, 0)
            received = String(decoding: buffer[..<max(count, 0)], as: UTF8.self)
            done.signal()
            if let reply {
                _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    /// A port nothing listens on: bound for a moment without listening, then closed.
    static func unusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(fd)
        if connection >= 0 { close(connection) }
    }
}
