import Foundation
import Queue
import Synchronization
import Testing

@testable import Console

/// A reproducible pseudo-random source (SplitMix64), so a failing input can be replayed.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A clock that moves one millisecond forward every time it is read: the
/// budget runs out after a known number of checks, on any machine.
private final class SteppingClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }
    private let reads = Mutex(0)
    var now: Instant {
        Instant(
            offset: .milliseconds(
                reads.withLock {
                    $0 += 1
                    return $0
                }))
    }
    var minimumResolution: Duration { .milliseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}

/// Applies a unified diff to `old` as `patch` would; `nil` when the diff doesn't fit `old`.
private func patch(_ old: [String], with diff: UnifiedDiff) -> [String]? {
    var out: [String] = []
    var position = 0
    for line in diff.lines {
        switch line {
        case .hunk(let header):
            // "@@ -start,count +start,count @@": 1-based, or the line before when count is 0.
            let range = header.split(separator: " ")[1].dropFirst().split(separator: ",").compactMap { Int($0) }
            guard range.count == 2 else { return nil }
            let start = range[1] == 0 ? range[0] : range[0] - 1
            guard start >= position, start <= old.count else { return nil }
            out += old[position..<start]
            position = start
        case .context(let text):
            guard position < old.count, old[position] == text else { return nil }
            out.append(text)
            position += 1
        case .removed(let text):
            guard position < old.count, old[position] == text else { return nil }
            position += 1
        case .added(let text):
            out.append(text)
        }
    }
    return out + old[position...]
}

/// Length of a longest common subsequence, by the textbook table: the reference for minimality.
private func lcsLength(_ a: [String], _ b: [String]) -> Int {
    var previous = [Int](repeating: 0, count: b.count + 1)
    for x in a {
        var current = [Int](repeating: 0, count: b.count + 1)
        for (j, y) in b.enumerated() {
            current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j])
        }
        previous = current
    }
    return previous[b.count]
}

private func text(_ lines: [String]) -> String {
    lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
}

@Suite("Bounded diff")
struct BoundedDiffTests {
    @Test("on random inputs (fixed seed), the diff applied to the old text gives the new, with a minimal edit count")
    func randomRoundTrip() {
        var random = SeededGenerator(state: 20_261_202)
        for round in 0..<400 {
            // Few distinct lines, so texts share many lines in many orders.
            let alphabet = Int.random(in: 1...8, using: &random)
            let old = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                "l\(Int.random(in: 0..<alphabet, using: &random))"
            }
            var new = old
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &random))
                case 1: new.insert("l\(Int.random(in: 0...alphabet, using: &random))", at: Int.random(in: 0...new.count, using: &random))
                default:
                    if !new.isEmpty { new[Int.random(in: 0..<new.count, using: &random)] = "x\(round)" }
                }
            }
            let context = Int.random(in: 0...3, using: &random)
            let diff = UnifiedDiff(old: text(old), new: text(new), context: context, budget: .seconds(60))
            #expect(diff.summary == nil)
            #expect(patch(old, with: diff) == new, "round \(round): \(old) → \(new)")
            let counts = diff.counts
            #expect(counts.added + counts.removed == old.count + new.count - 2 * lcsLength(old, new), "round \(round)")
        }
    }

    @Test("a long file against a short one, and two long files with scattered edits, diff correctly")
    func largeInputs() {
        var random = SeededGenerator(state: 9)
        let hosts = (0..<20_000).map { "host-\($0).example" }
        let short = Array(hosts.prefix(10))
        let diff = UnifiedDiff(old: text(short), new: text(hosts), budget: .seconds(60))
        #expect(diff.counts == (added: 19_990, removed: 0))
        #expect(patch(short, with: diff) == hosts)
        var edited = hosts
        for _ in 0..<50 { edited[Int.random(in: 0..<edited.count, using: &random)] = "changed.example" }
        let scattered = UnifiedDiff(old: text(hosts), new: text(edited), budget: .seconds(60))
        #expect(patch(hosts, with: scattered) == edited)
        // Every line repeated: no line can be left out of the search up front.
        let repeated = (0..<3000).map { "l\($0 % 3)" }
        let fewer = (0..<10).map { "l\($0 % 3)" }
        let both = UnifiedDiff(old: text(fewer), new: text(repeated), budget: .seconds(60))
        #expect(patch(fewer, with: both) == repeated)
        #expect(both.counts == (added: 2990, removed: 0))
    }

    @Test("past its budget the diff is a summary of lines added and removed, not a line diff")
    func budgetFallback() {
        // Interleaved shared lines force a long search (no shortcut applies).
        let old = (0..<4200).map { "a\($0 % 7)" }
        let new = (0..<4200).map { "a\(($0 * 3) % 7)" } + ["extra"]
        let clock = SteppingClock()
        let diff = UnifiedDiff(old: text(old), new: text(new), budget: .milliseconds(3), clock: clock)
        #expect(diff.lines.isEmpty)
        #expect(diff.summary == UnifiedDiff.Summary(added: 1, removed: 0))
        // The same clock and budget are plenty for a small change.
        let small = UnifiedDiff(
            old: "a\nb\nc\n", new: "a\nB\nc\n", budget: .milliseconds(3), clock: SteppingClock())
        #expect(small.summary == nil)
        #expect(small.counts == (added: 1, removed: 1))
    }

    @Test("lines are compared as bytes: a composed é and a decomposed é are a change, not context")
    func bytesNotCanonicalEquivalence() {
        let diff = UnifiedDiff(old: "caf\u{E9}.example\n", new: "cafe\u{301}.example\n")
        #expect(diff.counts == (added: 1, removed: 1))
        #expect(diff.lines.contains(.added("cafe\u{301}.example")))
    }

    @Test("a summary reads as the operator expects, with digit grouping")
    func summaryWording() {
        #expect(UnifiedDiff.Summary(added: 1412, removed: 3).description == "1,412 lines added, 3 removed")
        #expect(UnifiedDiff.Summary(added: 1, removed: 1_000_000).description == "1 line added, 1,000,000 removed")
    }

    @Test("the review shows the summary in place of the diff when the budget runs out")
    func reviewShowsSummary() {
        let current = (0..<4200).map { "h\($0 % 7).example" }
        let proposed = (0..<4200).map { "h\(($0 * 3) % 7).example" } + ["new.example"]
        let proposal = Proposal(
            bottle: try! BottleSlug("b"), tool: .pipelockBlock, proposedFile: text(proposed), justification: "j",
            currentFileSHA256: SHA256Hex.of(text(current)))
        let lines = ProposalReview(proposal: proposal, currentFile: text(current), diffClock: SteppingClock())
            .render(color: false)
        #expect(lines.contains { $0.contains("too large to compare line by line") && $0.contains("1 line added, 0 removed") })
        #expect(!lines.contains { $0.hasPrefix("+++ ") })
    }

    @Test("hunks: separate changes far apart get separate hunks; changes within twice the context share one")
    func hunks() {
        let old = (1...30).map { "line \($0)" }
        var far = old
        far[2] = "three"
        far[25] = "twenty-six"
        let diff = UnifiedDiff(old: text(old), new: text(far))
        let headers = diff.lines.compactMap { line -> String? in
            if case .hunk(let header) = line { return header }
            return nil
        }
        #expect(headers == ["@@ -1,6 +1,6 @@", "@@ -23,7 +23,7 @@"])
        var near = old
        near[10] = "eleven"
        near[16] = "seventeen"
        let joined = UnifiedDiff(old: text(old), new: text(near))
        #expect(joined.lines.first == .hunk("@@ -8,13 +8,13 @@"))
        #expect(joined.lines.filter { if case .context = $0 { true } else { false } }.count == 11)
        let noContext = UnifiedDiff(old: text(old), new: text(near), context: 0)
        #expect(
            noContext.lines == [
                .hunk("@@ -11,1 +11,1 @@"), .removed("line 11"), .added("eleven"),
                .hunk("@@ -17,1 +17,1 @@"), .removed("line 17"), .added("seventeen"),
            ])
        let deletedAtEnd = UnifiedDiff(old: "a\nb\n", new: "a\n", context: 0)
        #expect(deletedAtEnd.lines == [.hunk("@@ -2,1 +1,0 @@"), .removed("b")])
    }
}
