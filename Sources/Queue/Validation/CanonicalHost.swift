import FoundationEssentials

/// A host read once, the way the programs that will act on it read it: the
/// WHATWG URL host parser (browsers, Node, curl's URL API, pipelock's
/// clients) and `inet_aton`/`getaddrinfo` (anything linked against libc).
///
/// Every check on a host — the allowlist validator, the routes and
/// allowlist risk hints — runs on this form, never on the text as written,
/// so a host cannot be written one way for the reviewer and read another
/// way by the program (docs/risk-hints.md, "One canonical reading"):
/// - an IPv4 address in any form `inet_aton` takes (`0x7f.1`, `2130706433`,
///   `0177.0.0.1`, `127.1`) is the dotted quad `127.0.0.1`;
/// - an IPv6 address in any form (`[::ffff:169.254.169.254]`,
///   `0:0:0:0:0:ffff:a9fe:a9fe`, `fe80::1%eth0`) is its RFC 5952 text, the
///   zone kept apart;
/// - a name is percent-decoded, mapped as UTS-46 maps it for the cases that
///   matter for dodging (compatibility forms such as fullwidth letters and
///   dots, case, the ideographic full stops `。` `｡` `．`, ignored code
///   points such as the soft hyphen), encoded to `xn--` Punycode, lower
///   case, one trailing dot removed.
///
/// Hand-written, and why: Foundation on Linux has no IDNA API and the
/// package takes no ICU dependency. What this reader cannot canonicalise
/// with certainty is refused, never guessed (``Refusal``): the UTS-46
/// deviation characters (`ß`, `ς`, ZWJ, ZWNJ, on which transitional and
/// non-transitional readers disagree), symbols and punctuation inside a
/// label, an `xn--` label that is not the canonical encoding of what it
/// spells, a name that ends in a number but is not an IPv4 address
/// (`1.2.3.4.5`, `08.1.1.1`), and empty labels.
public struct CanonicalHost: Sendable, Hashable {
    /// A numeric host.
    public enum Address: Sendable, Hashable {
        case ipv4(UInt32)
        /// Eight 16-bit pieces, most significant first.
        case ipv6([UInt16])
    }

    /// The canonical text: a lower-case ASCII name without a trailing dot, a
    /// dotted-quad IPv4 address or an RFC 5952 IPv6 address (no brackets, no zone).
    public let text: String
    /// The address, when the host is one.
    public let address: Address?
    /// The IPv6 zone id written after `%` (`eth0`), when there was one.
    public let zone: String?

    /// Why a host cannot be read as one canonical host; `reason` completes
    /// "cannot be read as one host: …".
    public struct Refusal: Error, Sendable, Equatable {
        public let reason: String
    }

    /// Reads `input` (a bare host: no scheme, port or path; IPv6 with or
    /// without brackets).
    public static func parse(_ input: some StringProtocol) -> Result<CanonicalHost, Refusal> {
        let trimmed = String(input).unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }
        let host = String(String.UnicodeScalarView(trimmed))
        if host.isEmpty { return .failure(Refusal(reason: "it is empty")) }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count >= 2 else {
                return .failure(Refusal(reason: "'[' opens an IPv6 address that no ']' closes"))
            }
            return ipv6Host(String(host.dropFirst().dropLast()))
        }
        if host.contains(":") { return ipv6Host(host) }
        if let plain = plainName(host) { return plain }
        guard let decoded = percentDecoded(host) else {
            return .failure(Refusal(reason: "its percent-escapes do not decode to UTF-8 text"))
        }
        if decoded.contains(":") || decoded.contains("[") {
            return .failure(Refusal(reason: "a percent-escape hides a ':' or '['"))
        }
        return domain(decoded)
    }

    // MARK: - Names

    /// The fast path: lower-case ASCII letters, digits and hyphens with
    /// dots between, not ending in a number — nearly every host.
    private static func plainName(_ host: String) -> Result<CanonicalHost, Refusal>? {
        var labelStart = true
        var lastLabelNumeric = true
        var hasLetter = false
        var labelLength = 0
        guard host.utf8.count <= 253 else { return nil }
        for byte in host.utf8 {
            labelLength = byte == UInt8(ascii: ".") ? 0 : labelLength + 1
            if labelLength > 63 { return nil }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                hasLetter = true
                lastLabelNumeric = false
            case UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "-"): lastLabelNumeric = false
            case UInt8(ascii: "."):
                if labelStart { return nil }
                labelStart = true
                lastLabelNumeric = true
                continue
            default: return nil
            }
            labelStart = false
        }
        guard !labelStart, hasLetter, !lastLabelNumeric, !host.hasPrefix("xn--"), !host.contains(".xn--"),
            !endsInNumber(String(host.split(separator: ".").last ?? ""))
        else {
            return nil
        }
        return .success(CanonicalHost(text: host, address: nil, zone: nil))
    }

    private static func domain(_ decoded: String) -> Result<CanonicalHost, Refusal> {
        let mapped: String
        switch map(decoded) {
        case .success(let text): mapped = text
        case .failure(let refusal): return .failure(refusal)
        }
        var labels = mapped.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last == "" { labels.removeLast() }
        if labels.contains(where: \.isEmpty) {
            return .failure(Refusal(reason: "it has an empty label (a leading dot, or two dots in a row)"))
        }
        // DNS's limits (RFC 1035): also what keeps Punycode's quadratic steps small.
        if let long = labels.first(where: { $0.unicodeScalars.count > 63 }) {
            return .failure(Refusal(reason: "the label \(QuotedText(long.prefix(20)))… is longer than the 63 characters DNS allows"))
        }
        var ascii: [String] = []
        for label in labels {
            switch asciiLabel(label) {
            case .success(let text): ascii.append(text)
            case .failure(let refusal): return .failure(refusal)
            }
        }
        if ascii.reduce(0, { $0 + $1.utf8.count + 1 }) - 1 > 253, !(ascii.last.map(endsInNumber) ?? false) {
            return .failure(Refusal(reason: "it is longer than the 253 characters DNS allows"))
        }
        if let last = ascii.last, endsInNumber(last) {
            guard let value = ipv4(ascii) else {
                return .failure(
                    Refusal(
                        reason: "it ends in a number, so URL parsers read it as an IPv4 address, but it is not a valid one"))
            }
            return .success(CanonicalHost(text: dottedQuad(value), address: .ipv4(value), zone: nil))
        }
        return .success(CanonicalHost(text: ascii.joined(separator: "."), address: nil, zone: nil))
    }

    /// Code points UTS-46 maps to nothing: a name with one is another name's second spelling.
    static func isIgnored(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x34F, 0x180B...0x180F, 0x200B, 0x2060, 0x2064, 0xFE00...0xFE0F, 0xFEFF, 0x1BCA0...0x1BCA3,
            0xE0100...0xE01EF:
            true
        default: false
        }
    }

    /// UTS-46 deviation characters: transitional readers map them, non-transitional ones keep them.
    static func isDeviation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xDF, 0x3C2, 0x200C, 0x200D, 0x1E9E: true
        default: false
        }
    }

    /// Ignored code points removed, compatibility forms and case folded
    /// (NFKC, lower case, NFKC again), the ideographic full stop made a dot.
    private static func map(_ text: String) -> Result<String, Refusal> {
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !isIgnored(scalar) {
            if isDeviation(scalar) {
                return .failure(
                    Refusal(
                        reason: "\(CharacterName(scalar: scalar)) is read differently by different IDNA readers "
                            + "(UTS-46 deviation character)"))
            }
            kept.append(scalar)
        }
        var mapped = String(kept)
        if !mapped.utf8.allSatisfy({ $0 < 0x80 }) {
            // To a fixed point: lower case after NFKC can give text NFKC changes
            // again, and the canonical form must read back as itself.
            for _ in 0..<4 {
                let next = UnicodeFolding.nfkc(UnicodeFolding.nfkc(mapped).lowercased())
                if next.unicodeScalars.elementsEqual(mapped.unicodeScalars) { break }
                mapped = next
            }
        } else {
            mapped = mapped.lowercased()
        }
        var result = String.UnicodeScalarView()
        for scalar in mapped.unicodeScalars {
            if isDeviation(scalar) {
                return .failure(
                    Refusal(
                        reason: "it maps to \(CharacterName(scalar: scalar)), which different IDNA readers read differently"))
            }
            if isIgnored(scalar) { continue }
            result.append(scalar == "\u{3002}" ? "." : scalar)
        }
        return .success(String(result))
    }

    /// A mapped label in ASCII: as it is, or `xn--` and its Punycode.
    private static func asciiLabel(_ label: Substring) -> Result<String, Refusal> {
        let scalars = Array(label.unicodeScalars)
        if scalars.allSatisfy(\.isASCII) {
            for scalar in scalars where !isHostASCII(scalar) {
                return .failure(Refusal(reason: "\(CharacterName(scalar: scalar)) cannot be part of a host name"))
            }
            if label.hasPrefix("xn--"), label.utf8.count <= 63 {
                guard let decoded = Punycode.decode(label.dropFirst(4)), !decoded.allSatisfy(\.isASCII) else {
                    return .failure(Refusal(reason: "the label \(QuotedText(label)) is not valid Punycode"))
                }
                let spelled = String(String.UnicodeScalarView(decoded))
                guard case .success(let remapped) = map(spelled),
                    remapped.unicodeScalars.elementsEqual(spelled.unicodeScalars),
                    decoded.allSatisfy(isLabelScalar)
                else {
                    return .failure(
                        Refusal(
                            reason: "the label \(QuotedText(label)) spells \(QuotedText(spelled)), which is not in its canonical form"))
                }
            }
            return .success(String(label))
        }
        for scalar in scalars where !isLabelScalar(scalar) {
            return .failure(Refusal(reason: "\(CharacterName(scalar: scalar)) cannot be part of a host name"))
        }
        guard let encoded = Punycode.encode(scalars), encoded.utf8.count + 4 <= 63 else {
            return .failure(Refusal(reason: "the label \(QuotedText(label)) is too long to encode"))
        }
        return .success("xn--" + encoded)
    }

    /// ASCII a name may hold: letters, digits, hyphen and underscore (seen in real DNS names).
    private static func isHostASCII(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "0"..."9", "-", "_": true
        default: false
        }
    }

    /// A code point an internationalised label may hold: ASCII host
    /// characters, letters, marks and digits (no symbols, punctuation,
    /// spaces or controls, which only serve to confuse).
    private static func isLabelScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isHostASCII(scalar) }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .enclosingMark,
            .decimalNumber, .titlecaseLetter, .uppercaseLetter:
            return true
        default:
            return false
        }
    }

    private static func percentDecoded(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "%"), utf8.count >= 3,
                let high = hexValue(utf8[utf8.startIndex + 1]), let low = hexValue(utf8[utf8.startIndex + 2])
            {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: - IPv4 (WHATWG "IPv4 parser", which accepts what inet_aton accepts)

    /// Whether the last label makes URL parsers read the whole host as IPv4:
    /// all decimal digits, or `0x` and hex digits.
    static func endsInNumber(_ label: String) -> Bool {
        if !label.isEmpty, label.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) { return true }
        let bytes = label.utf8
        guard bytes.count >= 2, label.hasPrefix("0x") || label.hasPrefix("0X") else { return false }
        return bytes.dropFirst(2).allSatisfy { hexValue($0) != nil }
    }

    /// `parts` as one IPv4 address: one to four numbers, each decimal, octal
    /// (leading `0`) or hex (`0x`); the last fills the remaining bytes.
    public static func ipv4(_ parts: [String]) -> UInt32? {
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = ipv4Number(part) else { return nil }
            numbers.append(number)
        }
        for number in numbers.dropLast() where number > 255 { return nil }
        let last = numbers[numbers.count - 1]
        let lastLimit: UInt64 = 1 << (8 * UInt64(5 - numbers.count))
        guard last < lastLimit else { return nil }
        var value: UInt64 = last
        for (index, number) in numbers.dropLast().enumerated() {
            value += number << (8 * UInt64(3 - index))
        }
        return UInt32(value)
    }

    private static func ipv4Number(_ part: String) -> UInt64? {
        var digits = Substring(part)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            digits = digits.dropFirst(2)
            radix = 16
            if digits.isEmpty { return 0 }
        } else if digits.count > 1, digits.hasPrefix("0") {
            digits = digits.dropFirst()
            radix = 8
        }
        guard !digits.isEmpty, digits.count <= 40 else { return nil }
        var value: UInt64 = 0
        for byte in digits.utf8 {
            guard let digit = hexValue(byte), Int(digit) < radix else { return nil }
            value = value * UInt64(radix) + UInt64(digit)
            if value > UInt64(UInt32.max) { return nil }
        }
        return value
    }

    public static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    // MARK: - IPv6 (WHATWG "IPv6 parser", plus a zone id)

    private static func ipv6Host(_ text: String) -> Result<CanonicalHost, Refusal> {
        var address = Substring(text)
        var zone: String?
        if let percent = address.firstIndex(of: "%") {
            var zoneText = address[address.index(after: percent)...]
            if zoneText.hasPrefix("25"), zoneText.count > 2 { zoneText = zoneText.dropFirst(2) }
            guard !zoneText.isEmpty,
                zoneText.unicodeScalars.allSatisfy({ $0.isASCII && (isHostASCII($0) || $0 == "." || ("A"..."Z").contains($0)) })
            else {
                return .failure(Refusal(reason: "its IPv6 zone id is empty or holds characters no interface name has"))
            }
            zone = String(zoneText)
            address = address[..<percent]
        }
        guard let pieces = ipv6(address) else {
            return .failure(Refusal(reason: "it holds ':' but is not an IPv6 address"))
        }
        return .success(CanonicalHost(text: serialize(pieces), address: .ipv6(pieces), zone: zone))
    }

    /// The eight pieces of an IPv6 address (`::` compression, a trailing
    /// dotted-decimal IPv4 part); `nil` when it is not one.
    public static func ipv6(_ text: Substring) -> [UInt16]? {
        let input = Array(text.utf8)
        var pieces = [UInt16](repeating: 0, count: 8)
        var pieceIndex = 0
        var compress: Int?
        var pointer = 0
        func at(_ i: Int) -> UInt8? { i < input.count ? input[i] : nil }
        if at(0) == UInt8(ascii: ":") {
            guard at(1) == UInt8(ascii: ":") else { return nil }
            pointer = 2
            pieceIndex = 1
            compress = 1
        }
        while let c = at(pointer) {
            guard pieceIndex < 8 else { return nil }
            if c == UInt8(ascii: ":") {
                guard compress == nil else { return nil }
                pointer += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value: UInt16 = 0
            var length = 0
            while length < 4, let h = at(pointer), let digit = hexValue(h) {
                value = value << 4 | UInt16(digit)
                pointer += 1
                length += 1
            }
            if at(pointer) == UInt8(ascii: ".") {
                guard length > 0, pieceIndex <= 6 else { return nil }
                pointer -= length
                var numbersSeen = 0
                while let d = at(pointer) {
                    var ipv4Piece: Int?
                    if numbersSeen > 0 {
                        guard d == UInt8(ascii: "."), numbersSeen < 4 else { return nil }
                        pointer += 1
                    }
                    guard let first = at(pointer), first &- UInt8(ascii: "0") < 10 else { return nil }
                    while let digit = at(pointer), digit &- UInt8(ascii: "0") < 10 {
                        let number = Int(digit - UInt8(ascii: "0"))
                        if let current = ipv4Piece {
                            guard current != 0 else { return nil }  // no leading zeros
                            ipv4Piece = current * 10 + number
                        } else {
                            ipv4Piece = number
                        }
                        guard ipv4Piece! <= 255 else { return nil }
                        pointer += 1
                    }
                    pieces[pieceIndex] = pieces[pieceIndex] << 8 | UInt16(ipv4Piece!)
                    numbersSeen += 1
                    if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                }
                guard numbersSeen == 4 else { return nil }
                break
            } else if at(pointer) == UInt8(ascii: ":") {
                pointer += 1
                guard at(pointer) != nil else { return nil }
            } else if at(pointer) != nil {
                return nil
            }
            guard length > 0 else { return nil }
            pieces[pieceIndex] = value
            pieceIndex += 1
        }
        if let compress {
            var swaps = pieceIndex - compress
            pieceIndex = 7
            while pieceIndex != 0, swaps > 0 {
                pieces.swapAt(pieceIndex, compress + swaps - 1)
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            return nil
        }
        return pieces
    }

    /// RFC 5952 text: lower-case hex, the longest run of two or more zero pieces as `::`.
    public static func serialize(_ pieces: [UInt16]) -> String {
        var bestStart = -1, bestLength = 1
        var index = 0
        while index < 8 {
            if pieces[index] == 0 {
                var end = index
                while end < 8, pieces[end] == 0 { end += 1 }
                if end - index > bestLength { (bestStart, bestLength) = (index, end - index) }
                index = end
            } else {
                index += 1
            }
        }
        var text = ""
        index = 0
        while index < 8 {
            if index == bestStart {
                text += index == 0 ? "::" : ":"
                index += bestLength
                continue
            }
            text += String(pieces[index], radix: 16)
            if index < 7 { text += ":" }
            index += 1
        }
        return text
    }
}
