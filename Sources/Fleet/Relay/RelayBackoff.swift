/// How long a relay waits before it tries the database again: 1 s, doubling
/// to 30 s, back to 1 s once a connection has caught up.
///
/// A database that is down for an hour costs each relay about 120 attempts,
/// and a database that comes back is found within 30 s. Every host keeps
/// working on its own files meanwhile: the relay is a mirror, not a gate.
public struct RelayBackoff: Sendable, Equatable {
    /// The first wait after a failure.
    public let first: Duration
    /// The longest wait.
    public let limit: Duration
    private var next: Duration

    /// Waits from `first`, doubling, up to `limit`.
    public init(first: Duration = .seconds(1), limit: Duration = .seconds(30)) {
        self.first = first
        self.limit = limit
        self.next = first
    }

    /// The wait before the next attempt; the one after it is twice as long (up to the limit).
    public mutating func delay() -> Duration {
        let delay = next
        next = min(next * 2, limit)
        return delay
    }

    /// A connection caught up: the next failure waits `first` again.
    public mutating func reset() { next = first }
}
