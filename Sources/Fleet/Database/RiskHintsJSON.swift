import Foundation
import Queue
import Risk

/// Risk hints as the `risk_hints` jsonb column holds them: an array of
/// `{"severity", "rule", "reason", "line"}` objects, so a view on any host
/// (or an operator with psql) reads them without this program.
enum RiskHintsJSON {
    static func encode(_ hints: [RiskHint]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(hints), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [RiskHint] {
        if text == "[]" { return [] }  // most proposals: no decoder per listed row
        do {
            return try JSONDecoder().decode([RiskHint].self, from: Data(text.utf8))
        } catch {
            throw FleetStoreError.invalid("the database holds risk hints this program cannot read: \(error)")
        }
    }
}
