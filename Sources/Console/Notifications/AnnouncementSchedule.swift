import Foundation
import Queue
import Risk

/// When to announce what: the notifier's rate limits as a state machine
/// over an injected clock (every method takes `now`), so a burst an agent
/// makes cannot become a burst of pushes.
///
/// - **Per bottle**: a bottle's first proposal after a quiet spell goes out
///   at once; what the same bottle proposes within ``Limits/bottleWindow``
///   after that is held and goes out as one message when the window ends
///   ("12 new proposals from web-1"). 300 proposals in 5 s are two messages.
/// - **Across bottles**: at most ``Limits/perMinute`` messages in any 60 s.
///   When more bottles are due than there are messages left, all but one get
///   theirs and the last message names the rest together ("40 new proposals
///   from 17 bottles").
/// - **Order and priority**: the due bottle with the most severe risk hint
///   goes first, then the one whose proposal the host saw first; a message
///   carries the most severe hint of everything in it, so a critical one is
///   never buried at low priority.
struct AnnouncementSchedule: Sendable {
    struct Limits: Sendable, Equatable {
        /// How long a bottle's later proposals are gathered into one message.
        var bottleWindow: TimeInterval = 30
        /// The most messages in any 60 seconds, across bottles (at least 1).
        var perMinute: Int = 12
    }

    /// One proposal to announce, new or as a reminder.
    struct Item: Sendable, Equatable {
        let notification: ProposalNotification
        /// When the host first saw the proposal (``HostFirstSeen``).
        let firstSeen: Date
    }

    let limits: Limits
    private var held: [BottleSlug: [Item]] = [:]
    private var lastSent: [BottleSlug: Date] = [:]
    /// When each message of the last 60 s went out, oldest first.
    private var sent: [Date] = []

    init(limits: Limits) {
        self.limits = limits
    }

    /// Whether anything is waiting for its time.
    var isIdle: Bool { held.isEmpty }

    /// Queues `item` for its bottle.
    mutating func add(_ item: Item) {
        held[item.notification.bottle, default: []].append(item)
    }

    /// The messages due at `now`, each a group of items (one bottle's, or,
    /// for the last message a full minute leaves room for, several bottles').
    mutating func due(at now: Date) -> [[Item]] {
        sent.removeAll { now.timeIntervalSince($0) >= 60 }
        var ready = held.filter { bottle, _ in
            lastSent[bottle].map { now.timeIntervalSince($0) >= limits.bottleWindow } ?? true
        }.map { (bottle: $0.key, items: $0.value) }
        guard !ready.isEmpty else { return [] }
        ready.sort { lhs, rhs in
            let (left, right) = (Self.rank(lhs.items), Self.rank(rhs.items))
            if left.severity != right.severity { return left.severity > right.severity }
            return (left.firstSeen, lhs.bottle) < (right.firstSeen, rhs.bottle)
        }
        let room = max(0, max(1, limits.perMinute) - sent.count)
        guard room > 0 else { return [] }
        var messages: [[Item]] = []
        for (index, group) in ready.enumerated() {
            let isLastRoom = messages.count == room - 1
            if isLastRoom, index < ready.count - 1 {
                // The minute's last message: every bottle still due, together.
                messages.append(ready[index...].flatMap(\.items))
                for rest in ready[index...] { mark(rest.bottle, now) }
                break
            }
            messages.append(group.items)
            mark(group.bottle, now)
        }
        for _ in messages { sent.append(now) }
        return messages.map { $0.sorted { Self.itemOrder($0, $1) } }
    }

    /// When ``due(at:)`` next has something, or `nil` when nothing is held.
    func nextDue(after now: Date) -> Date? {
        guard !held.isEmpty else { return nil }
        let perBottle = held.keys.map { lastSent[$0].map { $0.addingTimeInterval(limits.bottleWindow) } ?? now }
        var next = perBottle.min() ?? now
        if sent.count >= max(1, limits.perMinute), let oldest = sent.first {
            next = max(next, oldest.addingTimeInterval(60))
        }
        return max(next, now)
    }

    private mutating func mark(_ bottle: BottleSlug, _ now: Date) {
        held[bottle] = nil
        lastSent[bottle] = now
    }

    private static func rank(_ items: [Item]) -> (severity: Int, firstSeen: Date) {
        (items.map { severity($0.notification.highestRisk) }.max() ?? 0, items.map(\.firstSeen).min() ?? .distantFuture)
    }

    static func severity(_ risk: RiskSeverity?) -> Int {
        switch risk {
        case .critical: 3
        case .warning: 2
        case .notice: 1
        case nil: 0
        }
    }

    private static func itemOrder(_ lhs: Item, _ rhs: Item) -> Bool {
        let (left, right) = (severity(lhs.notification.highestRisk), severity(rhs.notification.highestRisk))
        if left != right { return left > right }
        return (lhs.firstSeen, lhs.notification.id) < (rhs.firstSeen, rhs.notification.id)
    }
}
