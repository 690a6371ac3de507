import Testing

@testable import Sidecar

@Suite("Host and Origin allow-list (DNS rebinding)")
struct HostAllowListTests {
    let list = HostAllowList(bindAddress: "0.0.0.0", extra: ["Web-Supervise", "::1", "agents.internal:9100"])

    @Test("a rebinding request (Host and Origin both evil.com) is refused by its Host")
    func rebinding() {
        #expect(list.check(host: "evil.com:9100", origin: "http://evil.com:9100") == .host("evil.com:9100"))
        #expect(list.check(host: "evil.com", origin: nil) == .host("evil.com"))
        #expect(list.check(host: "localhost.evil.com:9100", origin: nil) == .host("localhost.evil.com:9100"))
    }

    @Test("loopback names, IP addresses and configured names are accepted in Host, with or without a port")
    func allowedHosts() {
        for host in [
            "localhost:9100", "LOCALHOST", "127.0.0.1:9100", "[::1]:9100", "web-supervise:9100", "web-supervise.",
            "agents.internal", "10.88.0.7:9100", "[fd00::7]:9100",
        ] {
            #expect(list.check(host: host, origin: nil) == nil, "\(host)")
        }
    }

    @Test("a missing or malformed Host is refused")
    func malformedHost() {
        #expect(list.check(host: nil, origin: nil) == .host(nil))
        #expect(list.check(host: "", origin: nil) == .host(""))
        #expect(list.check(host: "web-supervise:90x", origin: nil) == .host("web-supervise:90x"))
        #expect(list.check(host: "user@web-supervise", origin: nil) == .host("user@web-supervise"))
        #expect(list.check(host: "999.1.1.1", origin: nil) == .host("999.1.1.1"))
    }

    @Test("Origin must be on the list or the request's own (allowed) host; foreign, null and odd origins are refused")
    func origins() {
        #expect(list.check(host: "web-supervise:9100", origin: "http://localhost:3000") == nil)
        #expect(list.check(host: "web-supervise:9100", origin: "http://web-supervise:9100") == nil)
        #expect(list.check(host: "10.88.0.7:9100", origin: "http://10.88.0.7:9100") == nil)
        #expect(list.check(host: "web-supervise", origin: "https://evil.example") == .origin("https://evil.example"))
        #expect(list.check(host: "web-supervise", origin: "http://10.1.1.1") == .origin("http://10.1.1.1"))
        #expect(list.check(host: "web-supervise", origin: "null") == .origin("null"))
        #expect(list.check(host: "web-supervise", origin: "file://") == .origin("file://"))
        #expect(
            list.check(host: "web-supervise", origin: "http://localhost@evil.example")
                == .origin("http://localhost@evil.example"))
    }

    @Test("the bind address is allowed when it is a specific address, not a wildcard")
    func bindAddress() {
        #expect(HostAllowList(bindAddress: "sidecar.local").names.contains("sidecar.local"))
        #expect(!HostAllowList(bindAddress: "0.0.0.0").names.contains("0.0.0.0"))
        #expect(HostAllowList(bindAddress: "::").names == HostAllowList().names)
    }
}
