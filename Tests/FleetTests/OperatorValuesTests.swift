import Fleet
import Foundation
import Queue
import Risk
import Testing

/// The values the operator commands and the fleet page take from people:
/// operator names, sign-in tokens, and `[fleet] approvals`.
@Suite("Fleet operators: names, tokens, the approvals setting")
struct OperatorValuesTests {
    @Test("an operator name is lower-case letters, digits, '.', '_' and '-', 1 to 64, letter or digit at both ends")
    func names() {
        for good in ["alice", "a", "ops-1", "j.doe", "x_y", String(repeating: "a", count: 64)] {
            #expect(FleetOperatorName(good)?.rawValue == good, "\(good)")
        }
        for bad in ["", "Alice", "-ops", "ops-", "a b", "al\u{1B}[2Jice", "ali\u{202E}ce", "bob,carol", String(repeating: "a", count: 65)] {
            #expect(FleetOperatorName(bad) == nil, "\(bad)")
            #expect(FleetOperatorName.problem(with: bad) != nil)
        }
    }

    @Test("a token is 256 random bits as hex; what is stored is its SHA-256, never the token")
    func tokens() {
        let first = OperatorToken.make(), second = OperatorToken.make()
        #expect(first != second)
        #expect(OperatorToken.isWellFormed(first))
        #expect(OperatorToken.digest(first) == SHA256Hex.of(first))
        #expect(OperatorToken.digest(first) != first)
        #expect(!OperatorToken.isWellFormed("' OR 1=1 --"))
        #expect(!OperatorToken.isWellFormed(first.uppercased()))
    }

    @Test("[fleet] approvals: 1 to 16, default 1; anything else is refused naming the file and the value")
    func approvalsSetting() throws {
        #expect(try FleetWebSettings.threshold(in: "", path: "host.toml") == ApprovalThreshold(critical: 1))
        #expect(try FleetWebSettings.threshold(in: "[fleet]\napprovals = 3\n", path: "host.toml").critical == 3)
        let critical = [RiskHint(.critical, "wildcard", "a wildcard", line: 1)]
        let warning = [RiskHint(.warning, "new-host", "a new host", line: 1)]
        #expect(ApprovalThreshold(critical: 3).required(for: critical) == 3)
        #expect(ApprovalThreshold(critical: 3).required(for: warning) == 1)
        #expect(ApprovalThreshold(critical: 3).required(for: []) == 1)
        for bad in ["0", "17", "\"two\"", "1.5", "-1"] {
            #expect(throws: FleetSettingsError.self) {
                try FleetWebSettings.threshold(in: "[fleet]\napprovals = \(bad)\n", path: "/etc/host.toml")
            }
            do {
                _ = try FleetWebSettings.threshold(in: "[fleet]\napprovals = \(bad)\n", path: "/etc/host.toml")
            } catch {
                #expect(error.description.contains("/etc/host.toml") && error.description.contains("approvals"))
            }
        }
    }
}
