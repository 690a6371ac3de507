import Queue

/// A host a standing rule names: an exact hostname (`docs.python.org`) or a
/// wildcard over a domain's subdomains (`*.readthedocs.io`).
///
/// Patterns are checked as strictly as allowlist entries are, because a
/// loose pattern is a loose door: ASCII only (an internationalised name is
/// written in its `xn--` form, as the allowlist requires, so a look-alike
/// Unicode spelling can never match), no trailing dot, no port, no `*`
/// anywhere but as the whole first label, never a bare `*`. Comparison is
/// in ASCII lower case.
///
/// What a pattern covers:
/// - `docs.python.org` covers that name only (not `*.docs.python.org`, not `python.org`).
/// - `*.readthedocs.io` covers every name *under* `readthedocs.io` — `a.readthedocs.io`,
///   `a.b.readthedocs.io` — and an added wildcard entry under it (`*.a.readthedocs.io`,
///   `*.readthedocs.io` itself), but not `readthedocs.io` and not `evilreadthedocs.io`.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern in lower case, `*.` kept for a wildcard.
    public let text: String

    /// Parses a pattern; the error says what is wrong with it.
    public init(_ written: String) throws(PolicyProblem) {
        guard !written.isEmpty else { throw PolicyProblem("a host pattern is empty") }
        guard written != "*" else {
            throw PolicyProblem("\"*\" would match every host; name a domain, as in *.example.com")
        }
        guard written.unicodeScalars.allSatisfy(\.isASCII) else {
            throw PolicyProblem(
                "\(PolicyProblem.quoted(written)) is not ASCII; write an internationalised name in its xn-- (punycode) form, as the allowlist does")
        }
        guard !written.hasSuffix(".") else {
            throw PolicyProblem("\(PolicyProblem.quoted(written)) ends with a dot; write it without (hosts are compared without one)")
        }
        let lower = HostPattern.lowercase(written)
        let name = lower.hasPrefix("*.") ? String(lower.dropFirst(2)) : lower
        guard HostPattern.isHostname(name) else {
            throw PolicyProblem(
                "\(PolicyProblem.quoted(written)) is not a hostname or *.domain (letters, digits, '-' and '.'; '*' only as the whole first label)")
        }
        if lower.hasPrefix("*."), !name.contains(".") {
            throw PolicyProblem("\(PolicyProblem.quoted(written)) covers a whole top-level domain; name the domain, as in *.example.com")
        }
        self.text = lower
    }

    /// Whether this is a `*.` pattern.
    public var isWildcard: Bool { text.hasPrefix("*.") }

    /// Whether the pattern covers `host`, an allowlist entry or an upstream
    /// host in ASCII lower case (a wildcard entry keeps its `*.`).
    public func covers(_ host: String) -> Bool {
        guard isWildcard else { return host == text }
        let domain = text.dropFirst(1)  // ".readthedocs.io"
        let name = host.hasPrefix("*.") ? host.dropFirst(1) : Substring(host)  // a wildcard entry: its own ".domain"
        if host.hasPrefix("*.") {
            // `*.x.readthedocs.io` and `*.readthedocs.io` itself are covered.
            return name == domain || name.hasSuffix(domain)
        }
        return name.count > domain.count && name.hasSuffix(domain)
    }

    public var description: String { text }

    /// Whether `name` is a plain hostname: labels of letters, digits and
    /// inner hyphens, dot-separated, no `*`.
    static func isHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        var labelLength = 0
        var previous = UInt8(ascii: ".")
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                labelLength += 1
            case UInt8(ascii: "-"):
                guard labelLength > 0 else { return false }
                labelLength += 1
            case UInt8(ascii: "."):
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
            default:
                return false
            }
            guard labelLength <= 63 else { return false }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-")
    }

    static func lowercase(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
