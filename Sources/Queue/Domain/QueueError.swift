import FileAccess

/// What can go wrong between a caller and the queue, each case worded so the
/// message tells the reader what to fix.
public enum QueueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A slug that is not a safe directory name.
    case invalidSlug(String, reason: String)
    /// An id that is not of the generated form.
    case invalidProposalID(String)
    /// No proposal with this id in the bottle's queue (or in any, for a queue root).
    case noSuchProposal(String)
    /// The proposal already has a decision; `status` is the one that won.
    case alreadyDecided(ProposalID, status: DecisionStatus)
    /// A queue file exists but cannot be understood; `path` names it.
    case malformedFile(path: String, reason: String)
    /// A file in a format version this build does not know.
    case unsupportedFormat(path: String, version: Int)
    /// ``BottleQueue/decide(_:)`` set aside a forged decision in the
    /// decision's place again and again: the bottle's sidecar is writing them.
    case forgedDecisionsKeepReappearing(ProposalID)
    /// The operating system refused a file operation.
    case io(operation: String, path: String, errno: Int32)

    /// Every value in a message may come from a queue file the sidecar wrote
    /// (a field's text is quoted in a decoding error), so the reason, too, is
    /// escaped here and clipped: the one escaper, applied where the message is made.
    public var description: String {
        switch self {
        case .invalidSlug(let slug, let reason):
            "invalid bottle slug \(Escaped.clipped(slug)): \(Escaped(reason))"
        case .invalidProposalID(let id):
            "invalid proposal id \(Escaped.clipped(id)): expected the form 20261125-024900-3fa9c2d1e4b7"
        case .noSuchProposal(let id):
            "no such proposal: \(Escaped.clipped(id))"
        case .alreadyDecided(let id, let status):
            "proposal \(id) is already \(status.rawValue)"
        case .malformedFile(let path, let reason):
            "malformed queue file \(Escaped(path)): \(Escaped.clipped(reason, limit: 400))"
        case .unsupportedFormat(let path, let version):
            "queue file \(Escaped(path)) has format \(version); this build reads format \(QueueFormat.version)"
        case .forgedDecisionsKeepReappearing(let id):
            "a forged decision keeps reappearing on proposal \(id): the bottle's sidecar keeps writing decision files, "
                + "and each was set aside (see `bottle-supervise log`); nothing was decided. Stop the bottle, "
                + "then decide again (docs/security.md, \"Only the host decides\")"
        case .io(let operation, let path, let errno):
            FileAccessError.io(operation: operation, path: path, errno: errno).description
        }
    }
}
