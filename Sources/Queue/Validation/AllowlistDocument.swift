/// A pipelock allowlist that passed validation: one RFC 1123 hostname per
/// line, optionally `*.`-wildcarded, with whole-line `#` comments and blank
/// lines, no hostname twice.
///
/// The rules, decided where RFC 1123 or the seed left room (docs/validation.md):
/// - A label is 1-63 letters, digits and hyphens, not starting or ending with
///   a hyphen; the whole name is at most 253 characters.
/// - `_` is refused (RFC 1123 has no `_`; the seed allowed it, but pipelock
///   matches hostnames of HTTP requests, which cannot contain one).
/// - A trailing dot is refused: an entry is compared with request hostnames,
///   which are written without one, so `example.com.` could silently never
///   match. The message says to drop it.
/// - A comment is a line whose first non-blank character is `#`. A trailing
///   `example.com # note` is refused: the seed refused it, and we do not know
///   that pipelock strips it rather than reading the whole line as a name.
/// - `*.` is allowed only as the whole first label, and must cover a domain
///   below the top level (`*.com` is refused as allowing a whole TLD).
/// - Names are ASCII: an internationalized name must be written in its
///   punycode form (`xn--...`), and that form must be canonical.
/// - Every entry is read by ``CanonicalHost`` (the reader the risk hints
///   use): a name that ends in a number must be an IPv4 address written as
///   a dotted quad (`0x7f.1` and `1.2.3.4.5` are refused).
public struct AllowlistDocument: Sendable, Equatable {
    /// The longest hostname, in characters (RFC 1123 via RFC 1035).
    public static let maximumNameLength = 253
    /// The longest label, in characters.
    public static let maximumLabelLength = 63

    /// The hosts in file order.
    public let hosts: [AllowlistHost]

    /// Parses and checks `content` as an allowlist.
    /// - Throws: one problem per bad line (the first thing wrong on it, with
    ///   its column) and one per duplicate, with the tool set to
    ///   ``Tool/pipelockBlock``.
    public static func parse(_ content: String) throws(ValidationError) -> AllowlistDocument {
        var problems = ProblemList()
        var hosts: [AllowlistHost] = []
        var firstLine: [String: Int] = [:]
        for (number, line) in TextLines(text: content) {
            let entry = line.trimmingBlanks()
            if entry.isEmpty || entry.utf8.first == UInt8(ascii: "#") {
                continue
            }
            if !Self.isPlainHostname(entry), let problem = Self.problem(in: entry) {
                problems.add(problem.message, line: number, column: line.column(of: problem.index))
                continue
            }
            if let problem = Self.readingProblem(entry) {
                problems.add(problem, line: number, column: line.column(of: entry.startIndex))
                continue
            }
            let host = AllowlistHost(name: String(entry), line: number)
            let key = host.normalizedName
            if let first = firstLine[key] {
                problems.add(
                    "\(QuotedText(entry)) is already allowed on line \(first) (hostnames are case-insensitive); remove this line",
                    line: number, column: line.column(of: entry.startIndex))
            } else {
                firstLine[key] = number
                hosts.append(host)
            }
        }
        try problems.throwIfAny(for: .pipelockBlock)
        return AllowlistDocument(hosts: hosts)
    }

    /// What is wrong with how a well-formed entry reads (``CanonicalHost``,
    /// the reader the risk hints use too): a name URL parsers would read as
    /// a broken IPv4 address (`1.2.3.4.5`, `example.123`, `08.0.0.1`), an
    /// address in any spelling but its dotted quad (`0x7f.1`, `2130706433`,
    /// `0177.0.0.1`: pipelock compares text, a libc resolver reads these as
    /// 127.0.0.1), or a wildcard over an address.
    static func readingProblem(_ entry: Substring) -> String? {
        let wildcard = entry.hasPrefix("*.")
        let name = wildcard ? entry.dropFirst(2) : entry
        switch CanonicalHost.parse(name) {
        case .failure(let refusal):
            return "\(QuotedText(name)) cannot be read as one host: \(refusal.reason)"
        case .success(let host) where host.address != nil:
            if wildcard {
                return "\(QuotedText(entry)) puts a wildcard over an IP address; name the address alone"
            }
            if host.text != name.lowercased() {
                return "\(QuotedText(name)) is the IPv4 address \(host.text) written another way; write \(host.text)"
            }
            return nil
        case .success:
            return nil
        }
    }

    /// The first thing wrong with a hostname entry, and where.
    private static func problem(in entry: Substring) -> (message: String, index: Substring.Index)? {
        let scalars = entry.unicodeScalars
        var name = entry[...]
        if scalars.first == "*" {
            let afterStar = scalars.index(after: scalars.startIndex)
            if afterStar == scalars.endIndex {
                return (
                    "'*' alone would allow every host; name a domain, as in *.example.com", entry.startIndex
                )
            }
            if scalars[afterStar] != "." {
                return (
                    "'*' is only allowed as the whole first label, as in *.example.com", entry.startIndex
                )
            }
            name = entry[scalars.index(after: afterStar)...]
            if name.isEmpty {
                return ("a wildcard needs a domain after '*.', as in *.example.com", afterStar)
            }
        }
        if let bad = firstBadCharacter(in: name) {
            return bad
        }
        if name.unicodeScalars.first == "." {
            return ("a hostname cannot start with '.'", name.startIndex)
        }
        if let last = name.unicodeScalars.last, last == "." {
            return (
                "remove the trailing dot: write \(QuotedText(entry.dropLast())) (entries are compared with hostnames as requests name them)",
                name.unicodeScalars.index(before: name.endIndex)
            )
        }
        var labelCount = 0
        var labelStart = name.startIndex
        var index = name.startIndex
        while true {
            let atEnd = index == name.endIndex
            if atEnd || name.unicodeScalars[index] == "." {
                let label = name[labelStart..<index]
                if let problem = labelProblem(
                    label, dotIndex: atEnd ? nil : index, isFirst: labelCount == 0)
                {
                    return problem
                }
                labelCount += 1
                if atEnd { break }
                labelStart = name.unicodeScalars.index(after: index)
            }
            index = name.unicodeScalars.index(after: index)
        }
        if name.startIndex != entry.startIndex, labelCount < 2 {
            return (
                "\(QuotedText(entry)) would allow every host under a top-level domain; name the domain, as in *.example.com",
                entry.startIndex
            )
        }
        let length = entry.unicodeScalars.count
        if length > maximumNameLength {
            return (
                "the hostname is \(length) characters long; the limit is \(maximumNameLength)",
                entry.startIndex
            )
        }
        return nil
    }

    /// Whether `entry` is a hostname (or `*.` and one) of letters, digits,
    /// hyphens and dots that ``problem(in:)`` has nothing to say about —
    /// decided on its bytes in one pass. Nearly every line is one, and risk
    /// hints parse two allowlists per listed proposal: the scalar-by-scalar
    /// checks below, which find and word a fault, run only when this says no.
    static func isPlainHostname(_ entry: Substring) -> Bool {
        var bytes = entry.utf8[...]
        let wildcard = bytes.starts(with: "*.".utf8)
        if wildcard { bytes = bytes.dropFirst(2) }
        guard !bytes.isEmpty, entry.utf8.count <= maximumNameLength else { return false }
        var labels = 0
        var labelLength = 0
        var previous = UInt8(ascii: ".")
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                labelLength += 1
            case UInt8(ascii: "-"):
                guard labelLength > 0 else { return false }  // a label starting with '-'
                labelLength += 1
            case UInt8(ascii: "."):
                // An empty label (leading or double dot) or one ending with '-'.
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labels += 1
                labelLength = 0
            default:
                return false
            }
            guard labelLength <= maximumLabelLength else { return false }
            previous = byte
        }
        // No trailing dot or hyphen; a wildcard names at least a domain under a top-level one.
        guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
        // A last label that is a number (`1.2.3.4`, `a.0`, `0x7f`) makes URL parsers read
        // the whole entry as an IPv4 address: ``readingProblem(_:)`` has a word on that.
        let lastLabel = bytes.suffix(labelLength)
        if let first = lastLabel.first, first &- UInt8(ascii: "0") < 10 {
            return readingProblem(entry) == nil
        }
        return !wildcard || labels + 1 >= 2
    }

    private static func labelProblem(
        _ label: Substring, dotIndex: Substring.Index?, isFirst: Bool
    ) -> (message: String, index: Substring.Index)? {
        if label.isEmpty {
            guard let dotIndex else { return nil }
            return isFirst
                ? ("a hostname cannot start with '.'", dotIndex)
                : ("empty label: two dots in a row; remove one", dotIndex)
        }
        let scalars = label.unicodeScalars
        if scalars.count > maximumLabelLength {
            return (
                "the label \(QuotedText(label)) is \(scalars.count) characters long; a label may have at most \(maximumLabelLength)",
                label.startIndex
            )
        }
        if scalars.first == "-" {
            return ("a label cannot start with '-'", label.startIndex)
        }
        if scalars.last == "-" {
            return ("a label cannot end with '-'", scalars.index(before: scalars.endIndex))
        }
        return nil
    }

    /// The first character that is not a letter, digit, hyphen or dot,
    /// with a message that says what the agent probably meant.
    private static func firstBadCharacter(in name: Substring) -> (
        message: String, index: Substring.Index
    )? {
        let scalars = name.unicodeScalars
        guard let index = scalars.firstIndex(where: { !isHostnameScalar($0) }) else { return nil }
        let scalar = scalars[index]
        let rest = name[index...]
        let message: String
        switch scalar {
        case " ", "\t":
            let next = rest.drop { $0 == " " || $0 == "\t" }
            message =
                next.first == "#"
                ? "comments must be on a line of their own; move this '# ...' to its own line"
                : "one hostname per line; put \(QuotedText(next)) on a line of its own"
        case "#":
            message = "comments must be on a line of their own, starting with '#'"
        case "_":
            message = "'_' is not allowed in a hostname (RFC 1123: letters, digits, hyphens and dots)"
        case ":":
            message =
                rest.hasPrefix("://")
                ? "write the hostname only, without a scheme such as https://"
                : "write the hostname without a port; ':' is not allowed"
        case "/":
            message = "write the hostname only, without a path"
        case "*":
            message = "'*' is only allowed as the whole first label, as in *.example.com"
        default:
            if scalar.isASCII && !Escaped.mustEscape(scalar) {
                message =
                    "\(CharacterName(scalar: scalar)) is not allowed in a hostname (letters, digits, hyphens and dots only)"
            } else if !Escaped.mustEscape(scalar) && !scalar.properties.isWhitespace {
                message =
                    "\(CharacterName(scalar: scalar)) is not ASCII; write an internationalized name in its punycode form (xn--...)"
            } else {
                message = "\(CharacterName(scalar: scalar)) is not allowed in a hostname"
            }
        }
        if scalar == ":", rest.hasPrefix("://") {
            return (message, name.startIndex)
        }
        return (message, index)
    }

    private static func isHostnameScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".": true
        default: false
        }
    }
}
