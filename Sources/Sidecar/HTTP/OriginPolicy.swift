/// Which `Origin` headers may reach the MCP endpoint: none (non-browser
/// clients send none), loopback origins, and the origin of the host the
/// request was addressed to. Anything else is a web page trying to reach the
/// sidecar through the agent's browser: 403, as the spec requires.
public enum OriginPolicy {
    /// Whether a request with `origin` addressed to `host` (the `Host` header) is allowed.
    public static func allows(origin: String?, host: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        guard let originHost = hostPart(ofOrigin: origin) else { return false }
        if ["localhost", "127.0.0.1", "[::1]"].contains(originHost) { return true }
        if let host, let requestHost = hostPart(ofHost: host) { return originHost == requestHost }
        return false
    }

    private static func hostPart(ofOrigin origin: String) -> String? {
        let lowered = origin.lowercased()
        guard let range = lowered.range(of: "://") else { return nil }
        let scheme = lowered[..<range.lowerBound]
        guard scheme == "http" || scheme == "https" else { return nil }
        return hostPart(ofHost: String(lowered[range.upperBound...]))
    }

    private static func hostPart(ofHost authority: String) -> String? {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") {
            guard let close = lowered.firstIndex(of: "]") else { return nil }
            return String(lowered[...close])
        }
        let host = lowered.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        return host?.isEmpty == false ? host : nil
    }
}
