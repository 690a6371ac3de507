import Queue

/// What part of the address space a numeric host lies in.
///
/// A name in an allowlist or a route is reviewed as a name; an address
/// bypasses that (nobody can tell whose it is), and one in a private,
/// loopback or link-local range reaches into the host's own network — the
/// cloud metadata service at 169.254.169.254 hands out credentials. IPv6
/// forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo) are judged
/// by the IPv4 address they reach.
struct IPAddressLiteral: Sendable, Equatable {
    /// The address in canonical text (``CanonicalHost/text``).
    let text: String
    /// The range it lies in when that range is not the public internet
    /// ("a private address (10.0.0.0/8)"); `nil` for a public address.
    let specialRange: String?

    /// The address of `host`; `nil` for a name.
    init?(_ host: CanonicalHost) {
        guard let address = host.address else { return nil }
        self.init(address, text: host.text)
    }

    init(_ address: CanonicalHost.Address, text: String) {
        self.text = text
        switch address {
        case .ipv4(let value): self.specialRange = Self.range(ofIPv4: value)
        case .ipv6(let pieces): self.specialRange = Self.range(ofIPv6: pieces)
        }
    }

    static func range(ofIPv4 value: UInt32) -> String? {
        let o = [Int(value >> 24), Int(value >> 16 & 0xFF), Int(value >> 8 & 0xFF), Int(value & 0xFF)]
        switch (o[0], o[1]) {
        case (0, _): return "the \"this network\" range (0.0.0.0/8)"
        case (10, _): return "a private address (10.0.0.0/8)"
        case (100, 100) where o[2] == 100 && o[3] == 200: return "the Alibaba Cloud metadata service (100.100.100.200)"
        case (100, 64...127): return "a carrier-grade NAT address (100.64.0.0/10)"
        case (127, _): return "a loopback address (127.0.0.0/8)"
        case (169, 254) where o[2] == 169 && o[3] == 254: return "the cloud metadata service (169.254.169.254)"
        case (169, 254) where o[2] == 170 && o[3] == 2: return "the AWS ECS task metadata service (169.254.170.2)"
        case (169, 254): return "a link-local address (169.254.0.0/16)"
        case (172, 16...31): return "a private address (172.16.0.0/12)"
        case (192, 168): return "a private address (192.168.0.0/16)"
        case (192, 0) where o[2] == 0: return "an IETF protocol address (192.0.0.0/24)"
        case (198, 18...19): return "a benchmarking address (198.18.0.0/15)"
        case (224...239, _): return "a multicast address (224.0.0.0/4)"
        case (240...255, _): return "a reserved address (240.0.0.0/4)"
        default: return nil
        }
    }

    static func range(ofIPv6 p: [UInt16]) -> String? {
        let embedded = { (high: UInt16, low: UInt16) in UInt32(high) << 16 | UInt32(low) }
        if p == [0, 0, 0, 0, 0, 0, 0, 1] { return "the IPv6 loopback address (::1)" }
        if p == [0, 0, 0, 0, 0, 0, 0, 0] { return "the IPv6 unspecified address (::)" }
        if p == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] { return "the AWS metadata service (fd00:ec2::254)" }
        if p[0...4].allSatisfy({ $0 == 0 }), p[5] == 0xffff || p[5] == 0 {
            // IPv4-mapped ::ffff:a.b.c.d and the deprecated IPv4-compatible ::a.b.c.d.
            return describeEmbedded(embedded(p[6], p[7]), "an IPv4 address written as IPv6")
        }
        if p[0...3].allSatisfy({ $0 == 0 }), p[4] == 0xffff, p[5] == 0 {
            return describeEmbedded(embedded(p[6], p[7]), "an IPv4-translated address")  // ::ffff:0:a.b.c.d (SIIT)
        }
        if p[0] == 0x64, p[1] == 0xff9b, p[2...5].allSatisfy({ $0 == 0 }) || p[2] == 1 {
            // 64:ff9b::/96, and 64:ff9b:1::/48 for local use (RFC 8215), last 32 bits.
            return describeEmbedded(embedded(p[6], p[7]), "a NAT64 address")
        }
        if p[0] == 0x2002 { return describeEmbedded(embedded(p[1], p[2]), "a 6to4 address") }
        if p[0] == 0x2001, p[1] == 0 {
            return describeEmbedded(~embedded(p[6], p[7]), "a Teredo address")
        }
        switch p[0] {
        case 0xfc00...0xfdff: return "a unique local IPv6 address (fc00::/7)"
        case 0xfe80...0xfebf: return "a link-local IPv6 address (fe80::/10)"
        case 0xfec0...0xfeff: return "a site-local IPv6 address (fec0::/10)"
        case 0xff00...0xffff: return "a multicast IPv6 address (ff00::/8)"
        default: return nil
        }
    }

    private static func describeEmbedded(_ ipv4: UInt32, _ form: String) -> String? {
        range(ofIPv4: ipv4).map { "\(form) for \(CanonicalHost.dottedQuad(ipv4)), \($0)" }
    }
}
