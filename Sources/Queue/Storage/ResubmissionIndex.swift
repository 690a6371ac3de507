import Synchronization

/// Which live proposal an identical retry should re-attach to, and which
/// archived decision it may be answered with, per queue directory, held in
/// this process's memory.
///
/// A retry is identical when it names the same tool and a byte-identical
/// proposed file; it must find the proposal its first call queued, pending
/// or decided while nobody waited. Only the sidecar queues proposals for its
/// bottle, so an index it keeps itself is complete: it is loaded from the
/// live proposals when a directory is first used (the sidecar does it at
/// start, in ``BottleQueue/recover(clearWaitingMarkers:)``, which reads them
/// anyway), kept current by ``BottleQueue/submit(_:)`` and
/// ``BottleQueue/archive(_:)-(Proposal)``, and checked against the directory
/// on every hit, so an entry whose proposal someone else archived is dropped.
/// The latest archived decision per tool is read back at the same start
/// (``BottleQueue/loadLatestArchived()``), so a restart does not forget it.
///
/// It replaced a `<key>.key` hard link per proposal: a lookup and a link in
/// the queue directory on every queued call, and two `stat`s and an unlink
/// on every archive — under 10,000 concurrent calls, a fifth of the file
/// system work, for an index that had to be rebuilt from the proposals after
/// a crash anyway.
///
/// Identical calls racing in this process meet here too: the first leads
/// (looks up, queues), the others wait for its outcome.
final class ResubmissionIndex: Sendable {
    typealias Outcome = Result<Submission, QueueError>
    typealias Follower = CheckedContinuation<Outcome?, Never>

    /// The process's index: every ``BottleQueue`` over the same directory shares it.
    static let shared = ResubmissionIndex()

    private struct Directory {
        var loaded = false
        /// Key → the live proposal it names.
        var proposals: [String: ProposalID] = [:]
        /// Keys being submitted, with the identical submissions waiting for the outcome.
        var inFlight: [String: [Follower]] = [:]
        /// Per tool, the key and id of the proposal whose decision was archived
        /// last: the latest decision on that tool's file (``delivered(for:tool:in:)``).
        var delivered: [Tool: (key: String, id: ProposalID)] = [:]
    }

    private let directories = Mutex<[String: Directory]>([:])

    /// The key of `proposal`: its tool and the hash of its proposed file.
    static func key(for proposal: Proposal) -> String {
        key(tool: proposal.tool, proposedFileSHA256: proposal.proposedFileSHA256)
    }

    /// The key of a call of `tool` whose proposed file hashes to `proposedFileSHA256`.
    static func key(tool: Tool, proposedFileSHA256: String) -> String {
        tool.rawValue + "\n" + proposedFileSHA256
    }

    /// Whether `directory`'s live proposals have been read into the index.
    func isLoaded(_ directory: String) -> Bool {
        directories.withLock { $0[directory]?.loaded ?? false }
    }

    /// Records the live proposals read from `directory`. Entries made by
    /// submissions meanwhile stay: they are newer than the listing.
    func load(_ directory: String, _ proposals: [Proposal]) {
        directories.withLock { directories in
            for proposal in proposals {
                let key = Self.key(for: proposal)
                if directories[directory, default: Directory()].proposals[key] == nil {
                    directories[directory, default: Directory()].proposals[key] = proposal.id
                }
            }
            directories[directory, default: Directory()].loaded = true
        }
    }

    /// Starts a submission of `key`: `true` if the caller leads it, `false`
    /// if an identical one is in flight, in which case `follower` is resumed
    /// with the leader's outcome.
    func enter(_ key: String, in directory: String, _ follower: Follower) -> Bool {
        directories.withLock { directories in
            if directories[directory, default: Directory()].inFlight[key] == nil {
                directories[directory, default: Directory()].inFlight[key] = []
                return true
            }
            directories[directory, default: Directory()].inFlight[key]!.append(follower)
            return false
        }
    }

    /// The live proposal `key` names, as far as the index knows.
    func proposal(for key: String, in directory: String) -> ProposalID? {
        directories.withLock { $0[directory]?.proposals[key] }
    }

    /// Ends the leader's submission of `key`; `queued` is the proposal it
    /// queued, if it did. Returns the followers to resume.
    func leave(_ key: String, in directory: String, queued: ProposalID?) -> [Follower] {
        directories.withLock { directories in
            if let queued { directories[directory, default: Directory()].proposals[key] = queued }
            return directories[directory]?.inFlight.removeValue(forKey: key) ?? []
        }
    }

    /// Forgets `key` if it still names `id` (its proposal was archived or is gone).
    func remove(_ key: String, naming id: ProposalID, in directory: String) {
        directories.withLock { directories in
            if directories[directory]?.proposals[key] == id { directories[directory]!.proposals[key] = nil }
        }
    }

    /// Records that the decision on `id` (a call of `key`, for `tool`'s file)
    /// was delivered and archived: now the latest decision on that file.
    func recordDelivered(_ key: String, tool: Tool, id: ProposalID, in directory: String) {
        directories.withLock { $0[directory, default: Directory()].delivered[tool] = (key, id) }
    }

    /// Records what a restarted sidecar read from the archive
    /// (``BottleQueue/loadLatestArchived()``), unless an archive of this
    /// process already recorded a later one for `tool`.
    func recordDeliveredUnlessKnown(_ key: String, tool: Tool, id: ProposalID, in directory: String) {
        directories.withLock { directories in
            if directories[directory, default: Directory()].delivered[tool] == nil {
                directories[directory, default: Directory()].delivered[tool] = (key, id)
            }
        }
    }

    /// The archived proposal whose delivered decision an identical retry of
    /// `key` is answered with: only while its decision is still the latest
    /// one archived for `tool`'s file.
    func delivered(for key: String, tool: Tool, in directory: String) -> ProposalID? {
        directories.withLock { directories in
            guard let latest = directories[directory]?.delivered[tool], latest.key == key else { return nil }
            return latest.id
        }
    }

    /// Forgets `directory` entirely, as a restart would (for tests).
    func forget(_ directory: String) {
        directories.withLock { _ = $0.removeValue(forKey: directory) }
    }
}
