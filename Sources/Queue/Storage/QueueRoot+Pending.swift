/// The pending proposals a watcher announces (the console, `notify`, `web`).
extension QueueRoot {
    /// The pending proposals of `bottles` (every bottle when `nil`), read
    /// through the queue's guards; a file that cannot be read is left out
    /// here (`list` and the console report it).
    public func pendingProposals(of bottles: [BottleSlug]? = nil) -> [Proposal] {
        let targets = bottles ?? ((try? self.bottles()) ?? [])
        return targets.flatMap { bottle in
            ((try? queue(for: bottle).scan(archived: false).entries) ?? []).filter(\.isPending).map(\.proposal)
        }
    }
}
