import Queue
import Synchronization

/// What a relay's session has to do next, coalesced, in the order that keeps
/// claims prompt whatever a sidecar does.
///
/// Why not a queue of events: a sidecar controls how many file names appear
/// in its bottle's queue directory, hence how many inotify events its host's
/// relay sees. With one event per change in one stream, a sidecar creating
/// names as fast as it can kept the relay rescanning its bottle once per
/// event, and a claim for any other bottle of the host waited behind all of
/// them. Here a change only marks its bottle: a bottle marked ten thousand
/// times is mirrored once, bottles take turns (first marked, first
/// mirrored; marked again while waiting, it keeps its place), and before each
/// bottle the relay looks at the claims, the heartbeat and the connection.
///
/// Claims and mirrors also take turns: after a delivery of claims, the next
/// mirror goes first if one waits. Any role that can reach the database may
/// `NOTIFY fleet_decisions` with a host's name, as often as it likes; were
/// claims always first, such a flood would leave that host's proposals
/// unmirrored and its heartbeat unsent. With turns, a claim waits at most one
/// bottle's mirror, and a mirror at most one delivery.
///
/// A value type, so the order is tested without a relay, a database or a clock.
struct RelayWork: Sendable, Equatable {
    /// One thing to do.
    enum Step: Sendable, Equatable {
        /// The session's connection or its LISTEN ended: end the session.
        case lost(String)
        /// A claim for this host was announced: deliver every awaiting claim.
        case deliverClaims
        /// Time to say the host is alive.
        case heartbeat
        /// Something at the queue root changed (not one bottle): mirror the whole host.
        case mirrorHost
        /// One bottle's queue changed: mirror that bottle.
        case mirrorBottle(BottleSlug)
    }

    private var lostReason: String?
    private var claims = false
    private var heartbeatDue = false
    private var wholeHost = false
    /// Bottles to mirror, first marked first; `marked` mirrors the list for O(1) lookups.
    private var bottles: [BottleSlug] = []
    private var bottlesStart = 0
    private var marked: Set<BottleSlug> = []
    /// Whether the last step delivered claims (a mirror waiting goes next).
    private var claimsHadTheirTurn = false

    /// Whether nothing is waiting.
    var isEmpty: Bool { lostReason == nil && !claims && !heartbeatDue && !wholeHost && marked.isEmpty }

    /// The queue changed: in `bottle`'s directory, or (`nil`) elsewhere under the root.
    mutating func queueChanged(_ bottle: BottleSlug?) {
        guard let bottle else {
            wholeHost = true
            return
        }
        // A host mirror pending covers every bottle.
        if wholeHost || marked.contains(bottle) { return }
        marked.insert(bottle)
        bottles.append(bottle)
    }

    /// `LISTEN fleet_decisions` announced a claim for this host.
    mutating func claimsAnnounced() { claims = true }

    /// The heartbeat's interval passed.
    mutating func heartbeatTick() { heartbeatDue = true }

    /// The connection (or its LISTEN) ended; the first reason is kept.
    mutating func connectionLost(_ reason: String) {
        if lostReason == nil { lostReason = reason }
    }

    /// Takes the most urgent step: a lost connection, then the heartbeat (a
    /// timer's, once a minute), then claims and mirrors in turns — claims
    /// first unless they had the last turn and a mirror waits; of the mirrors,
    /// the whole host, then the bottle marked longest ago.
    mutating func next() -> Step? {
        if let lostReason { return .lost(lostReason) }
        if heartbeatDue {
            heartbeatDue = false
            return .heartbeat
        }
        let mirrorWaits = wholeHost || bottlesStart < bottles.count
        if claims, !(claimsHadTheirTurn && mirrorWaits) {
            claims = false
            claimsHadTheirTurn = true
            return .deliverClaims
        }
        claimsHadTheirTurn = false
        if wholeHost {
            wholeHost = false
            bottles.removeAll()
            bottlesStart = 0
            marked.removeAll()
            return .mirrorHost
        }
        guard bottlesStart < bottles.count else { return nil }
        let bottle = bottles[bottlesStart]
        bottlesStart += 1
        marked.remove(bottle)
        if bottlesStart == bottles.count {
            bottles.removeAll(keepingCapacity: true)
            bottlesStart = 0
        }
        return .mirrorBottle(bottle)
    }
}

/// ``RelayWork`` shared between the session's watches (which mark work) and
/// its loop (which does it), with a wake-up that holds at most one pending
/// signal: however many changes arrive while the loop works, it wakes once
/// and finds them all marked.
final class RelayInbox: Sendable {
    private let work = Mutex(RelayWork())
    private let wake: AsyncStream<Void>.Continuation
    /// Yields when work may be waiting; ends with ``finish()``.
    let wakeUps: AsyncStream<Void>

    init() {
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Marks work (one of ``RelayWork``'s mutating calls) and wakes the loop.
    func mark(_ change: (inout RelayWork) -> Void) {
        work.withLock { change(&$0) }
        wake.yield()
    }

    /// The most urgent step waiting, if any.
    func next() -> RelayWork.Step? { work.withLock { $0.next() } }

    /// Ends ``wakeUps`` (the session is over).
    func finish() { wake.finish() }
}
