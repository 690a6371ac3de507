import Synchronization

/// A clock that moves only when the test says: timers and deadlines become
/// plain arithmetic, and a test that waits on one cannot hang.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))

    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    /// Moves the clock forward by `duration`.
    func advance(by duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }

    /// Nothing in these tests sleeps on this clock; a sleep would never end, so it fails at once.
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        if deadline > now { throw CancellationError() }
    }
}

extension ManualClock.Instant {
    /// The instant `seconds` after the clock's start.
    static func at(_ seconds: Int) -> Self { Self(offset: .seconds(seconds)) }
}
