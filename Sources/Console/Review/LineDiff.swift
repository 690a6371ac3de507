/// Which lines of two texts a shortest edit script deletes and inserts,
/// computed in space linear in the input and within a time budget.
///
/// Myers' O(ND) algorithm in its linear-space, divide-and-conquer form: find
/// the middle snake of the edit graph by searching from both corners at once,
/// split there, and repeat on the two halves. The search keeps two vectors of
/// one integer per diagonal and nothing per edit step, so memory is O(N + M)
/// whatever the inputs (the greedy variant that keeps a vector per step grew
/// as lines × edits: gigabytes for a 20,000-line allowlist). The band of
/// diagonals searched shrinks once it reaches an edge of the box, as in
/// git's xdiff, so a long file against a short one costs O((N + M) · M).
///
/// Two cheap steps before the search, both exact (they never change which
/// lines the shortest script keeps): a common prefix and suffix are kept, and
/// a line that occurs nowhere in the other text is marked changed and left
/// out of the search, since no common subsequence can contain it. The second
/// is what makes a 1 MiB allowlist of new hosts against a 10-line one instant.
///
/// Hand-written because no package this project may use computes diffs.
struct LineDiff {
    /// `deleted[i]`: line `i` of the old text is not kept.
    private(set) var deleted: [Bool]
    /// `inserted[j]`: line `j` of the new text is not kept.
    private(set) var inserted: [Bool]

    /// Thrown when the budget ran out before the script was complete.
    struct OverBudget: Error {}

    /// Computes the script; `isOverBudget` is asked every few thousand steps
    /// of the search and aborts it when it answers `true`.
    init(_ a: [Int], _ b: [Int], isOverBudget: @escaping () -> Bool) throws(OverBudget) {
        deleted = Array(repeating: false, count: a.count)
        inserted = Array(repeating: false, count: b.count)
        // Lines with no counterpart in the other text can't be kept.
        var inA = Set<Int>(minimumCapacity: a.count)
        var inB = Set<Int>(minimumCapacity: b.count)
        for line in a { inA.insert(line) }
        for line in b { inB.insert(line) }
        var keptA: [Int] = []
        var indexA: [Int] = []
        for (index, line) in a.enumerated() {
            if inB.contains(line) {
                keptA.append(line)
                indexA.append(index)
            } else {
                deleted[index] = true
            }
        }
        var keptB: [Int] = []
        var indexB: [Int] = []
        for (index, line) in b.enumerated() {
            if inA.contains(line) {
                keptB.append(line)
                indexB.append(index)
            } else {
                inserted[index] = true
            }
        }
        var search = Search(a: keptA, b: keptB, isOverBudget: isOverBudget)
        try search.run()
        for (filtered, original) in indexA.enumerated() where search.deleted[filtered] { deleted[original] = true }
        for (filtered, original) in indexB.enumerated() where search.inserted[filtered] { inserted[original] = true }
    }

    /// The divide-and-conquer search over interned lines.
    private struct Search {
        let a: [Int]
        let b: [Int]
        var deleted: [Bool]
        var inserted: [Bool]
        /// Furthest-reaching x per diagonal k = x - y, forward and backward;
        /// indexed by k + offset, k in -(M + 1)...(N + 1).
        var forward: [Int]
        var backward: [Int]
        let offset: Int
        let isOverBudget: () -> Bool
        var stepsSinceCheck = 0

        init(a: [Int], b: [Int], isOverBudget: @escaping () -> Bool) {
            self.a = a
            self.b = b
            deleted = Array(repeating: false, count: a.count)
            inserted = Array(repeating: false, count: b.count)
            forward = Array(repeating: 0, count: a.count + b.count + 3)
            backward = Array(repeating: 0, count: a.count + b.count + 3)
            offset = b.count + 1
            self.isOverBudget = isOverBudget
        }

        /// Splits boxes until every box is a pure run of deletes or inserts.
        mutating func run() throws(OverBudget) {
            // An explicit stack: recursion depth must not depend on the input.
            var boxes = [(x0: 0, x1: a.count, y0: 0, y1: b.count)]
            while var box = boxes.popLast() {
                while box.x0 < box.x1, box.y0 < box.y1, a[box.x0] == b[box.y0] {
                    box.x0 += 1
                    box.y0 += 1
                }
                while box.x0 < box.x1, box.y0 < box.y1, a[box.x1 - 1] == b[box.y1 - 1] {
                    box.x1 -= 1
                    box.y1 -= 1
                }
                if box.x0 == box.x1 {
                    for y in box.y0..<box.y1 { inserted[y] = true }
                } else if box.y0 == box.y1 {
                    for x in box.x0..<box.x1 { deleted[x] = true }
                } else {
                    let (x, y) = try middleSnake(box.x0, box.x1, box.y0, box.y1)
                    boxes.append((x, box.x1, y, box.y1))
                    boxes.append((box.x0, x, box.y0, y))
                }
            }
        }

        private mutating func tick() throws(OverBudget) {
            stepsSinceCheck += 1
            if stepsSinceCheck >= 4096 {
                stepsSinceCheck = 0
                if isOverBudget() { throw OverBudget() }
            }
        }

        /// A point on a shortest path through the box, strictly dividing it
        /// (after the caller trimmed equal ends, the box has an edit on each side).
        private mutating func middleSnake(_ x0: Int, _ x1: Int, _ y0: Int, _ y1: Int) throws(OverBudget) -> (Int, Int) {
            let kMin = x0 - y1
            let kMax = x1 - y0
            let forwardMid = x0 - y0
            let backwardMid = x1 - y1
            let odd = (forwardMid - backwardMid) & 1 != 0
            var fMin = forwardMid
            var fMax = forwardMid
            var bMin = backwardMid
            var bMax = backwardMid
            let o = offset
            forward[forwardMid + o] = x0
            backward[backwardMid + o] = x1
            while true {
                // Widen the forward band by one diagonal each side, or narrow it at an edge.
                if fMin > kMin {
                    fMin -= 1
                    forward[fMin - 1 + o] = -1
                } else {
                    fMin += 1
                }
                if fMax < kMax {
                    fMax += 1
                    forward[fMax + 1 + o] = -1
                } else {
                    fMax -= 1
                }
                var k = fMax
                while k >= fMin {
                    try tick()
                    var x = forward[k - 1 + o] >= forward[k + 1 + o] ? forward[k - 1 + o] + 1 : forward[k + 1 + o]
                    var y = x - k
                    while x < x1, y < y1, a[x] == b[y] {
                        x += 1
                        y += 1
                    }
                    forward[k + o] = x
                    if odd, bMin <= k, k <= bMax, backward[k + o] <= x { return (x, y) }
                    k -= 2
                }
                if bMin > kMin {
                    bMin -= 1
                    backward[bMin - 1 + o] = Int.max
                } else {
                    bMin += 1
                }
                if bMax < kMax {
                    bMax += 1
                    backward[bMax + 1 + o] = Int.max
                } else {
                    bMax -= 1
                }
                k = bMax
                while k >= bMin {
                    try tick()
                    var x = backward[k - 1 + o] < backward[k + 1 + o] ? backward[k - 1 + o] : backward[k + 1 + o] - 1
                    var y = x - k
                    while x > x0, y > y0, a[x - 1] == b[y - 1] {
                        x -= 1
                        y -= 1
                    }
                    backward[k + o] = x
                    if !odd, fMin <= k, k <= fMax, x <= forward[k + o] { return (x, y) }
                    k -= 2
                }
            }
        }
    }
}
