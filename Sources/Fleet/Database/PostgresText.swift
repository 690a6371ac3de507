import Queue

/// Text as a PostgreSQL `text` column can hold it.
///
/// PostgreSQL refuses a NUL character in text; agent text (a justification,
/// a proposed file) may carry one. Refusing the row would let one agent stop
/// its whole host's mirror, so the mirror stores NUL as U+FFFD in the text
/// columns, which are for display; the proposal's bytes (`bytea`), which a
/// decision is bound to, are kept exactly.
extension String {
    var postgresText: String {
        guard utf8.contains(0) else { return self }
        return replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }

    /// The text with every character `decided_by` may not hold (those
    /// ``Escaped`` rewrites: controls, bidi and zero-width formatting) as
    /// U+FFFD: a name from a host's own queue, mirrored as it can be stored.
    var withoutHiddenCharacters: String {
        guard Escaped.needsEscaping(self) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars { out.append(Escaped.mustEscape(scalar) ? "\u{FFFD}" : scalar) }
        return String(out)
    }
}

extension Optional where Wrapped == String {
    var postgresText: String? { map(\.postgresText) }
}
