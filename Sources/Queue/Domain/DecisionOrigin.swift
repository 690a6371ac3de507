/// Who made a decision file, as the host judged it when it read the file.
///
/// The queue directory is shared with the sidecar, so a compromised sidecar
/// can write any file there, a `<id>.decision.json` included. The host seals
/// every decision it writes with a MAC under a key only it can read
/// (``DecisionSeal``); a reader with that key tells the host's decisions from
/// everything else. The sidecar has no key: it reads every decision as
/// ``unverified`` (it answers its own agent, whom a forgery of its own would
/// only fool about itself).
public enum DecisionOrigin: String, Sendable, Equatable {
    /// Read without the host's key (the sidecar), or made in memory.
    case unverified
    /// Carries a valid host MAC: an operator (or the host's own apply step) made it.
    case host
    /// A withdrawal or expiry without the host's MAC: the sidecar's claim.
    /// Never an approval, so it decides nothing the operator would have to undo.
    case sidecar
    /// No MAC, but the file was already there, byte for byte, when this queue
    /// root's key was made: a decision from before decisions were sealed
    /// (docs/security.md, "Only the host decides"). Shown as such; never
    /// recovered.
    case unsigned
    /// An approval, modification or rejection the host did not make: set
    /// aside, recorded as a `forged-decision` audit event, never applied.
    case forged

    /// Whether the decision counts as the proposal's outcome on the host.
    public var counts: Bool { self != .forged }

    /// Whether the host may act on the decision: apply it again, finish an
    /// interrupted apply, or seal a change to it. Only a decision it sealed
    /// itself (``host``), or one read by a queue without a key, which judges
    /// nothing (``unverified``: the sidecar's view, and tests'). Never an
    /// ``unsigned`` one or the ``sidecar``'s: sealing those anew would make
    /// them pass as the operator's.
    public var isHostMade: Bool { self == .host || self == .unverified }

    /// A short label for readers, `nil` for the ordinary cases.
    public var label: String? {
        switch self {
        case .unverified, .host: nil
        case .sidecar: "the sidecar's claim"
        case .unsigned: "unsigned, from before the host sealed decisions"
        case .forged: "FORGED: not made by the host"
        }
    }
}

extension Decision {
    /// "approved by alice", with who made the file when the host cannot vouch
    /// for it: what every reader (show, the console, the web page) shows.
    /// The claimed name is escaped: a forger chooses it.
    public var attribution: String {
        let claim = "\(status.rawValue) by \(Escaped(decidedBy))"
        if origin == .forged { return "FORGED, not made by the host (it claims \(claim)); set aside, never applied" }
        return origin.label.map { "\(claim) (\($0))" } ?? claim
    }
}
