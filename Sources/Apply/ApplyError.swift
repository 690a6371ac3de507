import Queue

/// Why an apply or rollback did not start, each case worded for the operator.
///
/// Queue errors (``QueueError/alreadyDecided(_:status:)`` when another
/// operator won) are thrown as they are; these are the apply step's own.
public enum ApplyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bottle's file changed since the proposal was made: applying would
    /// overwrite a change the operator has not seen. `current` is the file
    /// now (`nil`: it was removed), for showing what changed.
    case conflict(current: String?, expectedSHA256: String?, actualSHA256: String?)
    /// The decision does not let a file through (rejected, withdrawn, expired).
    case notAnApproval(DecisionStatus)
    /// The decision, proposal and queue do not belong together.
    case mismatch(String)
    /// The bottle's `supervise.toml` cannot be used.
    case settings(path: String, reason: String)
    /// Rollback found no earlier version of the file.
    case nothingToRollBack(bottle: BottleSlug, file: ConfigFile)
    /// The queue's proposal file no longer hashes to what the operator
    /// reviewed (`reviewed`; `nil`: the decision was bound to nothing):
    /// something replaced it between review and decision. Nothing was written.
    case proposalChanged(ProposalID, reviewed: String?, now: String?)
    /// The proposal cannot be applied as it stands: its hash field does not
    /// match its file, or the file (as proposed or as modified) does not
    /// pass the validator the sidecar runs. Nothing was written.
    case invalidProposal(ProposalID, reason: String)
    /// The grant asked for is not allowed (a time-boxed Dockerfile, longer than the bottle's maximum).
    case grantRefused(String)
    /// No grant of that name is live.
    case noSuchGrant(String)
    /// Live grants of several bottles share the id: the operator must say which (`SLUG/ID`).
    case ambiguousGrant(String, bottles: [String])
    /// The proposal's id was decided (or granted) before: the agent reused it. Nothing was written.
    case replayedProposal(ProposalID, reason: String)

    public var description: String {
        switch self {
        case .conflict(_, let expected, let actual):
            "the bottle's file changed since the proposal was made (expected \(Self.short(expected)), "
                + "found \(Self.short(actual))); review the change and apply with --force, or reject"
        case .notAnApproval(let status):
            "a \(status.rawValue) decision has no file to apply"
        case .mismatch(let what):
            what
        case .settings(let path, let reason):
            "cannot use \(Escaped(path)): \(reason)"
        case .nothingToRollBack(let bottle, let file):
            "no earlier version of \(file.fileName) for bottle \(bottle) to roll back to"
        case .proposalChanged(let id, let reviewed, let now):
            "proposal \(id) changed in the queue after it was reviewed (reviewed \(Self.short(reviewed)), "
                + "now \(now.map { "sha256 " + $0.prefix(12) } ?? "gone")); nothing was written: "
                + "review it again (`show \(id)`) before deciding"
        case .invalidProposal(let id, let reason):
            "proposal \(id) is refused: \(Escaped(reason)); nothing was written"
        case .grantRefused(let reason):
            "\(reason); nothing was written"
        case .noSuchGrant(let name):
            "no live grant \(Escaped(name)); `grants` lists them (ended ones with --all)"
        case .ambiguousGrant(let name, let bottles):
            "live grants of several bottles are named \(Escaped(name)): "
                + bottles.map { "\(Escaped($0))/\(Escaped(name))" }.joined(separator: ", ") + "; name one as SLUG/ID"
        case .replayedProposal(let id, let reason):
            "proposal \(id) is refused as a replay: \(reason); a proposal id is decided once, so this is a "
                + "proposal file written again under an old id; nothing was written: reject it, and ask the "
                + "agent to propose again (a new proposal gets a new id)"
        }
    }

    private static func short(_ hash: String?) -> String {
        hash.map { "sha256 " + Escaped(String($0.prefix(12))).description } ?? "no file"
    }
}
