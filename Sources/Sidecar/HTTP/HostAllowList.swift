import FoundationEssentials

/// The names a request may address the sidecar by (`Host`) and the web
/// origins that may call it (`Origin`): the defence against DNS rebinding.
///
/// A rebinding page is served from `http://evil.example:9100`, then makes
/// `evil.example` resolve to the sidecar's address; the agent's browser (or
/// any HTTP client the page can steer) then sends `Host: evil.example:9100`
/// and `Origin: http://evil.example:9100` — an origin that *equals* its own
/// host, which is why "Origin matches Host" is no defence. What the page
/// cannot choose is a name on this list: loopback names, the address the
/// sidecar is bound to, and the names the operator configured
/// (`--allowed-host`, `SUPERVISE_ALLOWED_HOSTS`; the `serve` command adds the
/// container name `<slug>-supervise`).
///
/// An IP literal in `Host` is allowed: a page that reaches the sidecar by
/// its address was loaded from that address, so the browser's same-origin
/// rule already separates it from every other site, and agents in a bottle
/// may well address the sidecar by IP. An IP literal in `Origin` is not,
/// unless it names the request's own host: a page on some other machine's
/// address is a foreign origin like any other.
public struct HostAllowList: Sendable, Equatable {
    /// The allowed names, lowercased, IPv6 addresses in brackets, no port.
    public private(set) var names: Set<String>

    /// Loopback names and `bindAddress` (when it is a specific address), plus `extra`.
    public init(bindAddress: String? = nil, extra: [String] = []) {
        var names: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
        if let bindAddress, let name = Self.canonical(bindAddress), !["0.0.0.0", "[::]"].contains(name) {
            names.insert(name)
        }
        for host in extra {
            if let name = Self.canonical(host) { names.insert(name) }
        }
        self.names = names
    }

    /// Why a request was refused.
    public enum Refusal: Equatable, Sendable {
        /// `Host` is missing or names something not on the list: HTTP 421.
        case host(String?)
        /// `Origin` names a site not on the list: HTTP 403.
        case origin(String)
    }

    /// Checks a request's `Host` and `Origin` headers; `nil` when it may proceed.
    public func check(host: String?, origin: String?) -> Refusal? {
        guard let host, let hostName = Self.hostPart(ofAuthority: host) else { return .host(host) }
        guard names.contains(hostName) || Self.isIPLiteral(hostName) else { return .host(host) }
        guard let origin, !origin.isEmpty else { return nil }
        guard let originHost = Self.hostPart(ofOrigin: origin) else { return .origin(origin) }
        return names.contains(originHost) || originHost == hostName ? nil : .origin(origin)
    }

    /// A configured name as the list keeps it: `"Web-Supervise"` → `"web-supervise"`,
    /// `"::1"` → `"[::1]"`, `"host:9100"` → `"host"`; `nil` when empty.
    static func canonical(_ text: String) -> String? {
        let trimmed = text.trimmed()
        guard !trimmed.isEmpty else { return nil }
        if !trimmed.hasPrefix("["), trimmed.filter({ $0 == ":" }).count > 1 { return "[\(trimmed.lowercased())]" }
        return hostPart(ofAuthority: trimmed)
    }

    private static func hostPart(ofOrigin origin: String) -> String? {
        let lowered = origin.lowercased()
        guard let range = lowered.firstRange(of: "://") else { return nil }
        let scheme = lowered[..<range.lowerBound]
        guard scheme == "http" || scheme == "https" else { return nil }
        let authority = lowered[range.upperBound...]
        guard !authority.contains("/"), !authority.contains("@") else { return nil }
        return hostPart(ofAuthority: String(authority))
    }

    /// The host of `host[:port]` or `[v6][:port]`, lowercased; `nil` when malformed.
    private static func hostPart(ofAuthority authority: String) -> String? {
        let lowered = authority.lowercased()
        let host: Substring
        let rest: Substring
        if lowered.hasPrefix("[") {
            guard let close = lowered.firstIndex(of: "]") else { return nil }
            host = lowered[...close]
            rest = lowered[lowered.index(after: close)...]
        } else {
            let parts = lowered.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            rest = parts.count > 1 ? lowered[lowered.index(before: parts[1].startIndex)...] : ""
        }
        if !rest.isEmpty {
            guard rest.first == ":", rest.count > 1, rest.dropFirst().allSatisfy(\.isASCIIDigit) else { return nil }
        }
        guard !host.isEmpty, host.allSatisfy(Self.isHostCharacter) else { return nil }
        return String(host.hasSuffix(".") && !host.hasPrefix("[") ? host.dropLast() : host)
    }

    private static func isHostCharacter(_ character: Character) -> Bool {
        character.isASCIILetterOrDigit || "-._[]:".contains(character)
    }

    /// Whether `name` is a dotted-quad IPv4 address or a bracketed IPv6 one.
    static func isIPLiteral(_ name: String) -> Bool {
        if name.hasPrefix("[") { return name.hasSuffix("]") && name.count > 2 }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in part.count <= 3 && !part.isEmpty && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255 }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
