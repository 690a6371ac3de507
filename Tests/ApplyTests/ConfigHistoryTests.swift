import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

@Suite struct ConfigHistoryTests {
    @Test func newestIsTheLastSavedEvenWithinOneMicrosecond() throws {
        let bed = try ApplyBed()
        let history = bed.config.history(of: .routes, for: bed.bottle)
        let now = Date()
        try history.save(Data("one".utf8), at: now)
        try history.save(nil, at: now)
        let third = try history.save(Data("three".utf8), at: now)
        #expect(try history.names().count == 3)
        #expect(try history.newest() == third)
        #expect(third.name.hasSuffix("-" + SHA256Hex.of("three").prefix(8)))
        try history.remove(third)
        #expect(try history.newest()?.content == nil)
        #expect(try history.newest()?.name.hasSuffix("-absent") == true)
    }

    @Test func namesAreSortableUTCStamps() {
        #expect(ConfigHistory.stamp(1_764_042_540_123_456) == "20251125T034900.123456Z")
        #expect(ConfigHistory.microseconds(in: "20251125T034900.123456Z-0a1b2c3d") == 1_764_042_540_123_456)
        #expect(ConfigHistory.microseconds(in: ".tmp") == nil)
        #expect(ConfigHistory.microseconds(in: ".20251125T034900.123456Z-x.tmp") == nil)
    }
}
