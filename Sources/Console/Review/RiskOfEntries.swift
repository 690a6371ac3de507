import Apply
import Queue

/// Risk hints of listed proposals, against each bottle's current file (read
/// once per bottle and file, however many proposals it has): what `list`
/// and the web console's list show.
public struct RiskOfEntries: Sendable {
    public let configRoot: ConfigRoot

    public init(configRoot: ConfigRoot) {
        self.configRoot = configRoot
    }

    /// The hints of each entry, in order.
    public func hints(for entries: [QueueEntry]) -> [[RiskHint]] {
        var currentFiles: [String: String?] = [:]
        return entries.map { entry in
            let proposal = entry.proposal
            let key = proposal.bottle.rawValue + "/" + proposal.tool.configFile.fileName
            let current: String?
            if let cached = currentFiles[key] {
                current = cached
            } else {
                current = try? configRoot.current(proposal.tool.configFile, for: proposal.bottle)
                currentFiles[key] = .some(current)
            }
            return RiskHints.assess(tool: proposal.tool, proposed: proposal.proposedFile, current: current)
        }
    }
}
