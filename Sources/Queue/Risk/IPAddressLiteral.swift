/// An IP address written where a host name is expected, and what part of
/// the address space it lies in.
///
/// A name in an allowlist or a route is reviewed as a name; an address
/// bypasses that (nobody can tell whose it is), and one in a private,
/// loopback or link-local range reaches into the host's own network — the
/// cloud metadata service at 169.254.169.254 hands out credentials.
struct IPAddressLiteral: Sendable, Equatable {
    /// The address as written (brackets removed for IPv6).
    let text: String
    /// The range it lies in when that range is not the public internet
    /// ("a private address (10.0.0.0/8)"); `nil` for a public address.
    let specialRange: String?

    /// Parses `host` as an IPv4 dotted quad or an IPv6 literal
    /// (`[fd00::1]` or `fd00::1`); `nil` for a name.
    init?(_ host: String) {
        var host = host
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let octets = IPAddressLiteral.ipv4(host) {
            self.text = host
            self.specialRange = IPAddressLiteral.range(ofIPv4: octets)
        } else if host.utf8.contains(UInt8(ascii: ":")), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            self.text = host
            self.specialRange = IPAddressLiteral.range(ofIPv6: host.lowercased())
        } else {
            return nil
        }
    }

    private static func ipv4(_ text: String) -> [Int]? {
        // Most hosts are names: a letter rules out a dotted quad before any splitting.
        guard text.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 || $0 == UInt8(ascii: ".") }) else { return nil }
        let parts = text.split(separator: Character("."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = Int(part), value <= 255
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    private static func range(ofIPv4 o: [Int]) -> String? {
        switch (o[0], o[1]) {
        case (0, _): "the \"this network\" range (0.0.0.0/8)"
        case (10, _): "a private address (10.0.0.0/8)"
        case (100, 64...127): "a carrier-grade NAT address (100.64.0.0/10)"
        case (127, _): "a loopback address (127.0.0.0/8)"
        case (169, 254) where o[2] == 169 && o[3] == 254: "the cloud metadata service (169.254.169.254)"
        case (169, 254): "a link-local address (169.254.0.0/16)"
        case (172, 16...31): "a private address (172.16.0.0/12)"
        case (192, 168): "a private address (192.168.0.0/16)"
        case (192, 0) where o[2] == 0: "an IETF protocol address (192.0.0.0/24)"
        case (198, 18...19): "a benchmarking address (198.18.0.0/15)"
        case (224...239, _): "a multicast address (224.0.0.0/4)"
        case (240...255, _): "a reserved address (240.0.0.0/4)"
        default: nil
        }
    }

    private static func range(ofIPv6 text: String) -> String? {
        if text == "::1" { return "the IPv6 loopback address (::1)" }
        if text == "::" { return "the IPv6 unspecified address (::)" }
        if text.hasPrefix("::ffff:"), let v4 = ipv4(String(text.dropFirst(7))) {
            return range(ofIPv4: v4) ?? nil
        }
        if text.hasPrefix("fc") || text.hasPrefix("fd") { return "a unique local IPv6 address (fc00::/7)" }
        if text.hasPrefix("fe8") || text.hasPrefix("fe9") || text.hasPrefix("fea") || text.hasPrefix("feb") {
            return "a link-local IPv6 address (fe80::/10)"
        }
        if text.hasPrefix("ff") { return "a multicast IPv6 address (ff00::/8)" }
        return nil
    }
}
