import Testing

@testable import Sidecar

@Suite("Origin validation")
struct OriginPolicyTests {
    @Test("absent, loopback and same-host origins pass; foreign ones do not")
    func origins() {
        #expect(OriginPolicy.allows(origin: nil, host: "127.0.0.1:9100"))
        #expect(OriginPolicy.allows(origin: "http://localhost:3000", host: "127.0.0.1:9100"))
        #expect(OriginPolicy.allows(origin: "http://127.0.0.1", host: "127.0.0.1:9100"))
        #expect(OriginPolicy.allows(origin: "http://[::1]:8080", host: "[::1]:9100"))
        #expect(OriginPolicy.allows(origin: "http://supervise:9100", host: "supervise:9100"))
        #expect(!OriginPolicy.allows(origin: "https://evil.example", host: "127.0.0.1:9100"))
        #expect(!OriginPolicy.allows(origin: "null", host: "127.0.0.1:9100"))
        #expect(!OriginPolicy.allows(origin: "http://localhost.evil.example", host: "127.0.0.1:9100"))
    }
}
