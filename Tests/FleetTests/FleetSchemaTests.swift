import Foundation
import Queue
import Testing

@testable import Fleet

@Suite("Fleet schema")
struct FleetSchemaTests {
    /// The database's CHECK on proposal ids must accept every id a sidecar
    /// generates, or a relay could never mirror a real proposal.
    @Test("the id pattern in the schema accepts generated ids and refuses others")
    func idPattern() throws {
        let sql = FleetSchema.migrations[0]
        let marker = "CHECK (id ~ '"
        let start = try #require(sql.range(of: marker)).upperBound
        let end = try #require(sql[start...].firstIndex(of: "'"))
        let pattern = try Regex(String(sql[start..<end]))
        for date in [Date(timeIntervalSince1970: 0), Date(), Date(timeIntervalSince1970: 4_102_444_800)] {
            let id = ProposalID.generate(at: date).rawValue
            #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
        }
        for bad in ["20261206-230000-3FA9C2D1E4B7", "20261206-230000-3fa9c2d1e4b", "../etc/passwd", ""] {
            #expect(bad.wholeMatch(of: pattern) == nil, "\(bad)")
        }
    }
}
