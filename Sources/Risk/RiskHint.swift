import Queue

/// One thing about a proposal an operator should look at before approving it:
/// how bad it could be, which rule saw it, one line saying why, and the line
/// of the proposed file it concerns.
///
/// Hints inform; they never decide. Nothing in the queue or the apply step
/// reads them: a critical hint does not refuse a proposal, and a proposal
/// with no hints is not thereby safe. They are computed by the host from the
/// proposal's bytes (never read from the queue), so a compromised sidecar
/// cannot hide one.
public struct RiskHint: Sendable, Hashable, Codable {
    /// How much the change could grant.
    public let severity: RiskSeverity
    /// The rule's stable name (`wildcard-public-suffix`), listed in docs/risk-hints.md.
    public let rule: String
    /// One line for the operator. May quote the proposal (a host name, an
    /// image): escape it before printing, as all agent text.
    public let reason: String
    /// The 1-based line of the proposed file it concerns; `nil` when it is
    /// about the file as a whole (a missing `USER`).
    public let line: Int?

    /// A hint of `severity` from `rule`.
    public init(_ severity: RiskSeverity, _ rule: String, _ reason: String, line: Int?) {
        self.severity = severity
        self.rule = rule
        self.reason = reason
        self.line = line
    }
}

/// How much a hinted change could grant, in increasing order.
public enum RiskSeverity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    /// Worth knowing; common in ordinary changes.
    case notice
    /// Grants more than it may seem to: read the line before approving.
    case warning
    /// Could let the agent move data out, reach the host's network or run
    /// code nobody reviewed: approve only if you meant exactly that.
    case critical

    private var rank: Int {
        switch self {
        case .notice: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: RiskSeverity, rhs: RiskSeverity) -> Bool { lhs.rank < rhs.rank }
}

extension Array where Element == RiskHint {
    /// The most severe hint's severity; `nil` for none.
    public var highestSeverity: RiskSeverity? { self.map(\.severity).max() }
}
