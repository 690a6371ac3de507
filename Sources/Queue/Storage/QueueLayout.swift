import SystemPackage

/// The names of the files in one bottle's queue directory.
///
/// Every path the queue touches is built here from a validated
/// ``ProposalID`` or a fixed name, never from text a caller supplied, so no
/// request can reach outside the directory. See docs/queue-format.md.
enum QueueLayout {
    static let proposalSuffix = ".proposal.json"
    static let decisionSuffix = ".decision.json"
    static let waitingSuffix = ".waiting"
    /// The agent's call ended without the decision; the file's mtime says when.
    static let stoppedWaitingSuffix = ".stopped-waiting"
    /// Index files that builds before ``ResubmissionIndex`` wrote; removed on recovery.
    static let legacyKeySuffix = ".key"
    static let archiveName = "archive"

    static func proposal(_ id: ProposalID, in directory: FilePath) -> FilePath {
        directory.appending(id.rawValue + proposalSuffix)
    }

    static func decision(_ id: ProposalID, in directory: FilePath) -> FilePath {
        directory.appending(id.rawValue + decisionSuffix)
    }

    static func waiting(_ id: ProposalID, in directory: FilePath) -> FilePath {
        directory.appending(id.rawValue + waitingSuffix)
    }

    static func stoppedWaiting(_ id: ProposalID, in directory: FilePath) -> FilePath {
        directory.appending(id.rawValue + stoppedWaitingSuffix)
    }

    /// The id in a file name of the form `<id><suffix>`, if it is one.
    static func id(in name: String, suffix: String) -> ProposalID? {
        guard name.hasSuffix(suffix) else { return nil }
        return try? ProposalID(String(name.dropLast(suffix.count)))
    }
}
