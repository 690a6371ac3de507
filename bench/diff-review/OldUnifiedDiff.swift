/// The diff as it was before the bounded review (greedy Myers keeping a vector per edit step), kept
/// verbatim for bench/diff-review.sh to compare against. Not part of any product.
///
/// Hand-written (Myers' O(ND) algorithm): no package available to this
/// project computes text diffs, and the files compared here are small
/// config files, where a plain implementation is instant.
struct OldUnifiedDiff: Sendable {
    /// One line of the diff.
    public enum Line: Equatable, Sendable {
        case hunk(String)
        case context(String)
        case removed(String)
        case added(String)
    }

    /// The diff's lines (hunk headers included); empty when the texts are equal.
    public let lines: [Line]

    /// The diff from `old` to `new` with `context` unchanged lines around each change.
    public init(old: String, new: String, context: Int = 3) {
        let a = OldUnifiedDiff.split(old)
        let b = OldUnifiedDiff.split(new)
        let script = OldUnifiedDiff.editScript(a, b)
        lines = OldUnifiedDiff.hunks(script, context: context)
    }

    /// Lines added and removed.
    public var counts: (added: Int, removed: Int) {
        lines.reduce(into: (0, 0)) { total, line in
            if case .added = line { total.0 += 1 }
            if case .removed = line { total.1 += 1 }
        }
    }

    private enum Edit {
        case keep(String, Int, Int)
        case delete(String, Int)
        case insert(String, Int)
    }

    static func split(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Myers' greedy shortest edit script.
    private static func editScript(_ a: [String], _ b: [String]) -> [Edit] {
        let n = a.count
        let m = b.count
        let maxD = n + m
        guard maxD > 0 else { return [] }
        var v = [Int](repeating: 0, count: 2 * maxD + 2)
        var trace: [[Int]] = []
        outer: for d in 0...maxD {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[k - 1 + maxD] < v[k + 1 + maxD]) {
                    x = v[k + 1 + maxD]
                } else {
                    x = v[k - 1 + maxD] + 1
                }
                var y = x - k
                while x < n, y < m, a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[k + maxD] = x
                if x >= n, y >= m { break outer }
            }
        }
        // Walk back through the trace to recover the edits.
        var edits: [Edit] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK =
                (k == -d || (k != d && v[k - 1 + maxD] < v[k + 1 + maxD])) ? k + 1 : k - 1
            let previousX = d == 0 ? 0 : v[previousK + maxD]
            let previousY = previousX - previousK
            while x > previousX, y > previousY {
                x -= 1
                y -= 1
                edits.append(.keep(a[x], x, y))
            }
            if d > 0 {
                if x == previousX {
                    y -= 1
                    edits.append(.insert(b[y], y))
                } else {
                    x -= 1
                    edits.append(.delete(a[x], x))
                }
            }
        }
        return edits.reversed()
    }

    private static func hunks(_ edits: [Edit], context: Int) -> [Line] {
        let changed = edits.indices.filter {
            if case .keep = edits[$0] { return false }
            return true
        }
        guard !changed.isEmpty else { return [] }
        // Group changes whose context windows touch.
        var groups: [ClosedRange<Int>] = []
        for index in changed {
            let window = max(0, index - context)...min(edits.count - 1, index + context)
            if let last = groups.last, window.lowerBound <= last.upperBound + 1 {
                groups[groups.count - 1] = last.lowerBound...max(last.upperBound, window.upperBound)
            } else {
                groups.append(window)
            }
        }
        var out: [Line] = []
        for group in groups {
            var oldStart = 0
            var newStart = 0
            var oldCount = 0
            var newCount = 0
            var body: [Line] = []
            // Positions of the first line in each file, from the edits before the group.
            var oldLine = 0
            var newLine = 0
            for edit in edits[..<group.lowerBound] {
                switch edit {
                case .keep: oldLine += 1; newLine += 1
                case .delete: oldLine += 1
                case .insert: newLine += 1
                }
            }
            oldStart = oldLine + 1
            newStart = newLine + 1
            for edit in edits[group] {
                switch edit {
                case .keep(let text, _, _):
                    body.append(.context(text))
                    oldCount += 1
                    newCount += 1
                case .delete(let text, _):
                    body.append(.removed(text))
                    oldCount += 1
                case .insert(let text, _):
                    body.append(.added(text))
                    newCount += 1
                }
            }
            if oldCount == 0 { oldStart -= 1 }
            if newCount == 0 { newStart -= 1 }
            out.append(.hunk("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@"))
            out += body
        }
        return out
    }
}
