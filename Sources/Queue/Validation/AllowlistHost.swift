/// One host of a pipelock allowlist, as written on its line.
///
/// Public so the console can list the hosts a proposal adds and removes
/// (compare ``normalizedName``s: hostnames are case-insensitive).
public struct AllowlistHost: Sendable, Hashable {
    /// The hostname as written, surrounding whitespace removed; a wildcard
    /// keeps its `*.` prefix (`*.example.com`).
    public let name: String
    /// The 1-based line it is on.
    public let line: Int

    /// A host at `line`.
    public init(name: String, line: Int) {
        self.name = name
        self.line = line
    }

    /// Whether this entry allows every subdomain of a domain (`*.example.com`).
    public var isWildcard: Bool { name.hasPrefix("*.") }

    /// The name in ASCII lower case, the form two entries are compared in.
    public var normalizedName: String {
        String(decoding: name.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
