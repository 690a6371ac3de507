import Queue

/// Names that reach the host's own network by construction, whatever the
/// public DNS says about other names: `localhost`, the cloud metadata
/// service's names, private-use domains, and public wildcard-DNS services
/// that answer with whatever address the name spells (`10.0.0.1.nip.io`,
/// `app-7f000001.nip.io`, `--1.sslip.io`).
///
/// Matched on the canonical name (``CanonicalHost``), so case, fullwidth
/// letters and dots or a trailing dot do not hide one.
enum InternalNames {
    /// What a name is, and how bad it is to allow it.
    struct Finding: Equatable {
        var severity: RiskSeverity
        /// `internal-name`, or `private-address` / `ip-address` for an address a service spells.
        var rule: String
        /// Completes "<host> …".
        var reason: String
    }

    /// Names of the cloud metadata services (they hand out the host's credentials).
    static let metadataNames: Set<String> = [
        "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
        "metadata.tencentyun.com", "metadata.platformequinix.com", "metadata.packet.net",
    ]

    /// Public services whose every name resolves to loopback.
    static let loopbackServices: Set<String> = [
        "localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "localhost.direct", "fuf.me", "yoogle.com",
        "smackaho.st", "localho.st", "local.gd",
    ]

    /// Public services that answer with the address the name spells
    /// (dotted, dashed or hex, and for some IPv6 with `-` for `:`), or a DNS
    /// rebinding service that alternates between two spelled addresses.
    static let addressServices: Set<String> = [
        "nip.io", "sslip.io", "xip.io", "traefik.me", "rbndr.us", "rebind.it", "1u.ms", "ip.addr.tools",
    ]

    /// Private-use domains: names under them are the site's own hosts.
    static let privateSuffixes = [
        "internal", "local", "localdomain", "lan", "home.arpa", "intranet", "corp", "home", "private",
        "cluster.local", "svc",
    ]

    /// What `name` (canonical, not an address) reaches; `nil` for an ordinary name.
    /// `wildcard`: the entry allows every name under `name` too.
    static func classify(_ name: String, wildcard: Bool) -> Finding? {
        if name == "localhost" || name.hasSuffix(".localhost") {
            return Finding(
                severity: .critical, rule: "internal-name", reason: "is localhost: it reaches the bottle's own loopback")
        }
        if let metadata = metadataNames.first(where: { $0 == name || $0.hasSuffix("." + name) && wildcard }) {
            return Finding(
                severity: .critical, rule: "internal-name",
                reason: "\(wildcard ? "covers" : "is") the cloud metadata service's name (\(metadata)): it hands out the host's credentials")
        }
        if let service = parent(of: name, in: loopbackServices) {
            return Finding(
                severity: .critical, rule: "internal-name",
                reason: "is under \(service), whose every name resolves to 127.0.0.1: it reaches the bottle's own loopback")
        }
        if let service = parent(of: name, in: addressServices) ?? (wildcard ? addressServices.first { $0.hasSuffix("." + name) } : nil) {
            return addressServiceFinding(name, service: service, wildcard: wildcard)
        }
        if !name.contains(".") {
            return Finding(
                severity: .warning, rule: "internal-name",
                reason: "is a single-label name: it resolves through the host's search domains to an internal machine, if anything")
        }
        if let suffix = privateSuffixes.first(where: { name == $0 || name.hasSuffix("." + $0) }) {
            return Finding(
                severity: .warning, rule: "internal-name",
                reason: "is under .\(suffix), a private-use domain: it names a machine on the host's own network")
        }
        return nil
    }

    /// The listed domain `name` is or lies under.
    private static func parent(of name: String, in domains: Set<String>) -> String? {
        var rest = Substring(name)
        while true {
            if domains.contains(String(rest)) { return String(rest) }
            guard let dot = rest.firstIndex(of: ".") else { return nil }
            rest = rest[rest.index(after: dot)...]
        }
    }

    private static func addressServiceFinding(_ name: String, service: String, wildcard: Bool) -> Finding {
        if wildcard || name == service {
            return Finding(
                severity: .critical, rule: "private-address",
                reason: "\(wildcard ? "allows every name under" : "is") \(service), which resolves each name to the address it spells: "
                    + "that includes the host's private network and the metadata service")
        }
        let spelled = name.dropLast(service.count + 1)
        let addresses = embeddedAddresses(in: spelled)
        let judged = addresses.map { IPAddressLiteral($0.address, text: $0.text) }
        if let special = judged.first(where: { $0.specialRange != nil }) {
            return Finding(
                severity: .critical, rule: "private-address",
                reason: "resolves by construction (\(service)) to \(special.text), \(special.specialRange!)")
        }
        if let address = judged.first {
            return Finding(
                severity: .warning, rule: "ip-address",
                reason: "resolves by construction (\(service)) to the IP address \(address.text): no name says whose it is")
        }
        return Finding(
            severity: .critical, rule: "private-address",
            reason: "is under \(service), which resolves names to the address they spell, and no address could be read "
                + "from it: it may reach the host's private network")
    }

    /// Every address the labels in front of a wildcard-DNS service may
    /// spell: dotted (`10.0.0.1`, after any prefix labels), dashed
    /// (`app-10-0-0-1`), hex (`0a000001`, `app-0a000001`) and dashed IPv6
    /// (`fe80--1`, `--1`).
    static func embeddedAddresses(in spelled: Substring) -> [(address: CanonicalHost.Address, text: String)] {
        var found: [(CanonicalHost.Address, String)] = []
        func add(_ value: UInt32) { found.append((.ipv4(value), CanonicalHost.dottedQuad(value))) }
        let labels = spelled.split(separator: ".").map(String.init)
        for count in 1...4 where labels.count >= count {
            if let value = CanonicalHost.ipv4(Array(labels.suffix(count))), count == 4 || labels.count == count {
                add(value)
            }
        }
        for label in labels {
            let parts = label.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            if parts.count >= 4, let value = CanonicalHost.ipv4(Array(parts.suffix(4))) { add(value) }
            for part in parts where part.utf8.count == 8 {
                if let value = UInt32(part, radix: 16) { add(value) }
            }
            if label.contains("--") {
                var candidate = Substring(label.replacingColons())
                // A name prefix before the address: `app-fe80--1` may be `app` + `fe80::1`.
                while !candidate.isEmpty {
                    if let pieces = CanonicalHost.ipv6(candidate) {
                        found.append((.ipv6(pieces), CanonicalHost.serialize(pieces)))
                        break
                    }
                    guard let colon = candidate.firstIndex(of: ":") else { break }
                    candidate = candidate[candidate.index(after: colon)...]
                }
            }
        }
        return found
    }
}

extension String {
    fileprivate func replacingColons() -> String {
        String(decoding: utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: ":") : $0 }, as: UTF8.self)
    }
}
