import FoundationEssentials

extension BottleQueue {
    /// The bytes of proposal `id`'s file, live or archived, read through the
    /// same guards as ``entry(_:)`` (no link followed, size-limited); `nil`
    /// when it is in neither.
    ///
    /// For a reader that passes the proposal on as it is (the fleet's relay
    /// mirrors these bytes, and other hosts bind decisions to their digest):
    /// the caller compares their digest with the entry's
    /// (``QueueEntry/proposalSHA256``), since the file may be replaced between
    /// the two reads.
    public func proposalFile(_ id: ProposalID) throws(QueueError) -> Data? {
        let name = id.rawValue + QueueLayout.proposalSuffix
        let live = try openLive()
        if let data = try live?.read(name) { return data }
        return try live?.subdirectory(QueueLayout.archiveName)?.read(name)
    }
}
