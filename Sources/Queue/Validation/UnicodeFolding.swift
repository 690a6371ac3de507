/// NFKC and full case folding, without Foundation: what the validators use
/// to read a key or a host the way a program that folds them reads it
/// (``KeyFolding``, ``CanonicalHost``).
///
/// Foundation's `precomposedStringWithCompatibilityMapping` and
/// `folding(options: .caseInsensitive)` did this with ICU, whose 34 MB of
/// data the sidecar no longer links (docs/architecture.md, "The sidecar
/// without Foundation"). Swift's standard library has canonical
/// normalisation (NFC) but neither compatibility mappings nor case folding,
/// so those two come from tables generated from the Unicode data
/// (`UnicodeFoldingData.swift`, scripts/generate-unicode-folding): NFKC is
/// each scalar replaced by its compatibility decomposition, then the
/// standard library's NFC, which decomposes the rest canonically, reorders
/// and composes.
public enum UnicodeFolding {
    /// `text` in Normalization Form KC.
    public static func nfkc(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var decomposed = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let mapped = compatibility[scalar.value] {
                decomposed.append(contentsOf: mapped)
            } else {
                decomposed.append(scalar)
            }
        }
        return String(decoding: String(decomposed)._nfcCodeUnits, as: UTF8.self)
    }

    /// `text` with full case folding (`"Straße"` → `"strasse"`, `"ΣΑΣ"` → `"σασ"`).
    public static func caseFolded(_ text: String) -> String {
        var folded = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let mapped = caseFolding[scalar.value] {
                folded.append(contentsOf: mapped)
            } else {
                folded.append(scalar)
            }
        }
        return String(folded)
    }

    private static let compatibility = table(compatibilityData)
    private static let caseFolding = table(caseFoldingData)

    /// Reads `scalar:mapped scalars;` entries (hexadecimal) into a lookup table.
    private static func table(_ data: String) -> [UInt32: [Unicode.Scalar]] {
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for entry in data.split(whereSeparator: { $0 == ";" || $0 == "\n" }) {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let key = UInt32(parts[0], radix: 16) else { continue }
            table[key] = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        }
        return table
    }
}
