import FileAccess
import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An operator's extension of a proposal's `--expire-after` deadline:
/// `<id>.extended` in the bottle's queue directory, one RFC 3339 timestamp
/// (the new deadline), written whole by the host (the web console's
/// "Extend" button) and honoured by the sidecar's expiry sweep.
///
/// The proposal file itself is never rewritten (it is the bytes the
/// operator reviews and a decision is bound to). The extension is bounded
/// where it is read, by both sides: a deadline at most
/// ``BottleQueue/maximumExtension`` past the one the sidecar set, and never
/// earlier than it (an extension cannot shorten a wait). A file that is
/// not a regular file, is larger than 64 bytes or does not hold a timestamp
/// is ignored: the proposal keeps its own deadline, so nothing written into
/// the queue directory makes a proposal live longer than the bound.
extension BottleQueue {
    /// The most an extension can add to the deadline the sidecar set: one day.
    public static let maximumExtension: TimeInterval = 86_400

    /// The suffix of an extension file.
    static let extensionSuffix = ".extended"

    private func extensionPath(_ id: ProposalID) -> FilePath {
        directory.appending(id.rawValue + Self.extensionSuffix)
    }

    /// The deadline in effect for `proposal`: its own, or a later one an
    /// extension sets (bounded); `nil` when it has none.
    public func deadline(of proposal: Proposal) -> Date? {
        guard let own = proposal.expiresAt else { return nil }
        guard let data = try? AtomicFile.read(extensionPath(proposal.id), limit: 64, regularOnly: true),
            let text = String(data: data, encoding: .utf8),
            let extended = Timestamp.parse(text.trimmed())
        else { return own }
        return min(max(own, extended), own.addingTimeInterval(Self.maximumExtension))
    }

    /// Whether `proposal`'s deadline, extensions included, has passed at `now`.
    public func isExpired(_ proposal: Proposal, at now: Date = Date()) -> Bool {
        deadline(of: proposal).map { $0 <= now } ?? false
    }

    /// Host: extends `proposal`'s deadline by `interval` from the later of now
    /// and the deadline in effect, up to the bound. - Returns: the new deadline.
    /// - Throws: when the proposal has no deadline, has passed it, or is at the bound already.
    @discardableResult
    public func extendDeadline(of proposal: Proposal, by interval: TimeInterval, now: Date = Date()) throws(QueueError)
        -> Date
    {
        guard let own = proposal.expiresAt, let current = deadline(of: proposal) else {
            throw .malformedFile(path: extensionPath(proposal.id).string, reason: "the proposal has no deadline to extend")
        }
        guard current > now else {
            throw .malformedFile(path: extensionPath(proposal.id).string, reason: "the proposal's deadline has passed")
        }
        let limit = own.addingTimeInterval(Self.maximumExtension)
        guard current < limit else {
            throw .malformedFile(
                path: extensionPath(proposal.id).string,
                reason: "the deadline is already extended by the most allowed (\(Int(Self.maximumExtension / 3600)) h)")
        }
        let wanted = Timestamp.normalized(min(max(current, now).addingTimeInterval(interval), limit))
        try QueueError.mapping { () throws(FileAccessError) in
            try AtomicFile.write(
                Data((Timestamp.format(wanted) + "\n").utf8), to: extensionPath(proposal.id), mode: 0o644)
        }
        return wanted
    }

    /// Removes an extension file once its proposal is archived.
    func clearExtension(_ id: ProposalID) {
        unlink(extensionPath(id).string)
    }
}
