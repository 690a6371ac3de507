import Queue
import Testing

@testable import Fleet

/// The order a relay works in: a sidecar that floods its queue directory
/// must not delay the claims for its host, nor the other bottles' mirrors.
@Suite("Relay work order")
struct RelayWorkTests {
    let flooding = try! BottleSlug("flooding")
    let quiet = try! BottleSlug("quiet")

    /// Every step waiting, in the order the relay would take them.
    func drain(_ work: inout RelayWork) -> [RelayWork.Step] {
        var steps: [RelayWork.Step] = []
        while let step = work.next() { steps.append(step) }
        return steps
    }

    @Test("ten thousand changes of one bottle are one mirror of it")
    func coalesces() {
        var work = RelayWork()
        for _ in 0..<10_000 { work.queueChanged(flooding) }
        #expect(drain(&work) == [.mirrorBottle(flooding)])
        #expect(work.isEmpty)
    }

    @Test("a claim announced behind a flood is delivered before the flooding bottle is mirrored")
    func claimsFirst() {
        var work = RelayWork()
        for _ in 0..<1_000 { work.queueChanged(flooding) }
        work.claimsAnnounced()
        #expect(work.next() == .deliverClaims)
        #expect(work.next() == .mirrorBottle(flooding))
        #expect(work.next() == nil)
    }

    @Test("a claim announced while bottles wait goes ahead of the next one")
    func claimBetweenBottles() {
        var work = RelayWork()
        work.queueChanged(flooding)
        work.queueChanged(quiet)
        #expect(work.next() == .mirrorBottle(flooding))
        work.claimsAnnounced()
        work.queueChanged(flooding)
        #expect(drain(&work) == [.deliverClaims, .mirrorBottle(quiet), .mirrorBottle(flooding)])
    }

    @Test("bottles take turns: one marked again while waiting keeps its place, one marked after its turn goes last")
    func fairTurns() {
        var work = RelayWork()
        work.queueChanged(flooding)
        work.queueChanged(quiet)
        work.queueChanged(flooding)
        #expect(work.next() == .mirrorBottle(flooding))
        work.queueChanged(flooding)
        #expect(drain(&work) == [.mirrorBottle(quiet), .mirrorBottle(flooding)])
    }

    @Test("a change at the root mirrors the whole host once, covering the bottles marked before and after")
    func wholeHost() {
        var work = RelayWork()
        work.queueChanged(quiet)
        work.queueChanged(nil)
        work.queueChanged(flooding)
        work.queueChanged(nil)
        #expect(drain(&work) == [.mirrorHost])
    }

    @Test("a lost connection beats everything, stays until the session ends, and keeps its first reason")
    func lostFirst() {
        var work = RelayWork()
        work.queueChanged(quiet)
        work.claimsAnnounced()
        work.heartbeatTick()
        work.connectionLost("the database ended the LISTEN")
        work.connectionLost("a later reason")
        #expect(work.next() == .lost("the database ended the LISTEN"))
        #expect(work.next() == .lost("the database ended the LISTEN"))
    }

    @Test("the heartbeat, then claims, then the mirrors; each once however often marked")
    func order() {
        var work = RelayWork()
        work.queueChanged(quiet)
        work.heartbeatTick()
        work.heartbeatTick()
        work.claimsAnnounced()
        work.claimsAnnounced()
        #expect(drain(&work) == [.heartbeat, .deliverClaims, .mirrorBottle(quiet)])
    }

    @Test("claims announced without end (any role may NOTIFY) take turns with the mirrors and the heartbeat")
    func claimFloodTakesTurns() {
        var work = RelayWork()
        work.queueChanged(quiet)
        work.queueChanged(flooding)
        var steps: [RelayWork.Step] = []
        for round in 0..<6 {
            work.claimsAnnounced()
            if round == 3 { work.heartbeatTick() }
            if let step = work.next() { steps.append(step) }
        }
        #expect(steps == [
            .deliverClaims, .mirrorBottle(quiet), .deliverClaims, .heartbeat, .mirrorBottle(flooding), .deliverClaims,
        ])
    }

    @Test("the inbox wakes its loop once for a burst, and the loop finds all of it")
    func inboxWakesOnce() async {
        let inbox = RelayInbox()
        for _ in 0..<500 { inbox.mark { $0.queueChanged(flooding) } }
        inbox.mark { $0.claimsAnnounced() }
        inbox.finish()
        var wakeUps = 0
        var steps: [RelayWork.Step] = []
        for await _ in inbox.wakeUps {
            wakeUps += 1
            while let step = inbox.next() { steps.append(step) }
        }
        #expect(wakeUps == 1)
        #expect(steps == [.deliverClaims, .mirrorBottle(flooding)])
    }
}
