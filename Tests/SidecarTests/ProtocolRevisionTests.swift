import Sidecar
import Testing

/// Revisions are compared as values; these pin the order and the parsing the
/// dispatcher and the transport rules rely on.
@Suite("Protocol revisions")
struct ProtocolRevisionTests {
    @Test("the cases are in date order, so >= means 'this revision or a later one'")
    func dateOrder() {
        let names = ProtocolRevision.allNames
        #expect(names == ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"])
        #expect(ProtocolRevision.all.sorted() == ProtocolRevision.all)
        #expect(ProtocolRevision.v2025_06_18 < .v2025_11_25)
        #expect(!(ProtocolRevision.v2026_07_28 < .v2025_11_25))
    }

    @Test("only 2026-07-28 is modern; only 2025-03-26 has batches")
    func eras() {
        #expect(ProtocolRevision.all.filter(\.isModern) == [.v2026_07_28])
        #expect(ProtocolRevision.all.filter(\.hasBatches) == [.v2025_03_26])
    }

    @Test(
        "initialize gets the revision it asks for when it is a handshake revision, else our latest",
        arguments: [
            ("2024-11-05", ProtocolRevision.v2024_11_05), ("2025-11-25", .v2025_11_25),
            ("2026-07-28", .v2025_11_25), ("2099-01-01", .v2025_11_25), ("2025-6-18", .v2025_11_25),
        ])
    func negotiation(requested: String, negotiated: ProtocolRevision) {
        #expect(ProtocolRevision.negotiate(requested) == negotiated)
    }

    @Test("a name parses in its own era only; an unknown name parses nowhere")
    func namedInAnEra() {
        #expect(ProtocolRevision.handshake(named: "2025-06-18") == .v2025_06_18)
        #expect(ProtocolRevision.handshake(named: "2026-07-28") == nil)
        #expect(ProtocolRevision.modern(named: "2026-07-28") == .v2026_07_28)
        #expect(ProtocolRevision.modern(named: "2025-11-25") == nil)
        #expect(ProtocolRevision.modern(named: "2030-01-01") == nil)
        #expect(ProtocolRevision.negotiate(nil) == .v2025_11_25)
    }
}
