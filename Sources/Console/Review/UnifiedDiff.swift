/// A unified diff of two texts, line by line, as `diff -u` prints it, or,
/// when computing it would take longer than its budget, a summary of how
/// many lines each text has that the other lacks.
///
/// The texts come from the agent, so the diff must stay cheap whatever they
/// hold: memory is linear in their size (see ``LineDiff``) and time is capped
/// by the budget; past it the operator gets "1,412 lines added, 3 removed"
/// instead of a review that never ends.
public struct UnifiedDiff: Sendable {
    /// One line of the diff.
    public enum Line: Equatable, Sendable {
        case hunk(String)
        case context(String)
        case removed(String)
        case added(String)
    }

    /// Line counts for a diff that was not computed line by line.
    public struct Summary: Equatable, Sendable, CustomStringConvertible {
        /// Lines of the new text with no counterpart in the old (counted as multisets: moves don't count).
        public let added: Int
        /// Lines of the old text with no counterpart in the new.
        public let removed: Int

        /// "1,412 lines added, 3 removed".
        public var description: String {
            "\(Self.grouped(added)) line\(added == 1 ? "" : "s") added, \(Self.grouped(removed)) removed"
        }

        /// `1412` as `1,412`.
        static func grouped(_ value: Int) -> String {
            let digits = Array(String(value))
            var out = ""
            for (index, digit) in digits.enumerated() {
                if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
                out.append(digit)
            }
            return out
        }
    }

    /// How long a diff may take before a summary is shown instead.
    public static let defaultBudget: Duration = .milliseconds(300)

    /// The diff's lines (hunk headers included); empty when the texts are equal
    /// or when the budget ran out (then ``summary`` is set).
    public let lines: [Line]

    /// Set when the line diff took longer than its budget: only counts are known.
    public let summary: Summary?

    /// The diff from `old` to `new` with `context` unchanged lines around each
    /// change, or a ``summary`` if it can't be computed within `budget` on `clock`.
    public init<C: Clock>(
        old: String, new: String, context: Int = 3, budget: Duration = UnifiedDiff.defaultBudget, clock: C
    ) where C.Duration == Duration {
        let a = LineList(old)
        let b = LineList(new)
        // Lines are compared as bytes: two different byte strings that Unicode calls
        // equivalent must not be shown as an unchanged line.
        var ids: [LineList.Key: Int] = [:]
        let internedA = a.intern(&ids)
        let internedB = b.intern(&ids)
        let deadline = clock.now.advanced(by: budget)
        do {
            let script = try LineDiff(internedA, internedB) { clock.now >= deadline }
            lines = UnifiedDiff.hunks(a, b, script, context: context)
            summary = nil
        } catch {
            lines = []
            summary = UnifiedDiff.count(internedA, internedB)
        }
    }

    /// The diff from `old` to `new`, within `budget` of wall-clock time.
    public init(old: String, new: String, context: Int = 3, budget: Duration = UnifiedDiff.defaultBudget) {
        self.init(old: old, new: new, context: context, budget: budget, clock: ContinuousClock())
    }

    /// Lines added and removed (from the summary when there is no line diff).
    public var counts: (added: Int, removed: Int) {
        if let summary { return (summary.added, summary.removed) }
        return lines.reduce(into: (0, 0)) { total, line in
            if case .added = line { total.0 += 1 }
            if case .removed = line { total.1 += 1 }
        }
    }

    /// Multiset difference: what the budget fallback can still say exactly in O(N + M).
    private static func count(_ a: [Int], _ b: [Int]) -> Summary {
        var balance: [Int: Int] = [:]
        for line in a { balance[line, default: 0] += 1 }
        for line in b { balance[line, default: 0] -= 1 }
        var added = 0
        var removed = 0
        for value in balance.values {
            if value > 0 { removed += value } else { added -= value }
        }
        return Summary(added: added, removed: removed)
    }

    private enum Edit {
        case keep(Int, Int)
        case delete(Int)
        case insert(Int)
    }

    /// The edit script in order: deletions before insertions within a change, as `diff -u` prints them.
    private static func edits(_ script: LineDiff, oldCount: Int, newCount: Int) -> [Edit] {
        var edits: [Edit] = []
        edits.reserveCapacity(oldCount + newCount)
        var x = 0
        var y = 0
        while x < oldCount || y < newCount {
            while x < oldCount, script.deleted[x] {
                edits.append(.delete(x))
                x += 1
            }
            while y < newCount, script.inserted[y] {
                edits.append(.insert(y))
                y += 1
            }
            if x < oldCount, y < newCount {
                edits.append(.keep(x, y))
                x += 1
                y += 1
            } else if x < oldCount {
                // Kept lines pair up one to one; these branches only guarantee progress.
                edits.append(.delete(x))
                x += 1
            } else if y < newCount {
                edits.append(.insert(y))
                y += 1
            }
        }
        return edits
    }

    private static func hunks(_ a: LineList, _ b: LineList, _ script: LineDiff, context: Int) -> [Line] {
        let edits = edits(script, oldCount: a.count, newCount: b.count)
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
            // Each edit knows its own line numbers, so a hunk's start costs nothing to find.
            var oldStart = 0
            var newStart = 0
            switch edits[group.lowerBound] {
            case .keep(let x, let y): (oldStart, newStart) = (x, y)
            case .delete(let x): (oldStart, newStart) = (x, newPosition(edits, before: group.lowerBound))
            case .insert(let y): (oldStart, newStart) = (oldPosition(edits, before: group.lowerBound), y)
            }
            var oldCount = 0
            var newCount = 0
            var body: [Line] = []
            for edit in edits[group] {
                switch edit {
                case .keep(let x, _):
                    body.append(.context(a.text(x)))
                    oldCount += 1
                    newCount += 1
                case .delete(let x):
                    body.append(.removed(a.text(x)))
                    oldCount += 1
                case .insert(let y):
                    body.append(.added(b.text(y)))
                    newCount += 1
                }
            }
            out.append(
                .hunk(
                    "@@ -\(oldCount == 0 ? oldStart : oldStart + 1),\(oldCount) +\(newCount == 0 ? newStart : newStart + 1),\(newCount) @@"
                ))
            out += body
        }
        return out
    }

    /// How many new-text lines precede edit `index` (the nearest earlier keep or insert tells).
    private static func newPosition(_ edits: [Edit], before index: Int) -> Int {
        var i = index - 1
        while i >= 0 {
            switch edits[i] {
            case .keep(_, let y), .insert(let y): return y + 1
            case .delete: i -= 1
            }
        }
        return 0
    }

    /// How many old-text lines precede edit `index`.
    private static func oldPosition(_ edits: [Edit], before index: Int) -> Int {
        var i = index - 1
        while i >= 0 {
            switch edits[i] {
            case .keep(let x, _), .delete(let x): return x + 1
            case .insert: i -= 1
            }
        }
        return 0
    }
}

/// A text's lines as byte ranges into one copy of its UTF-8: no string per line
/// until a line is shown.
struct LineList {
    /// A line's bytes, hashed in one call (a 1 MiB file has tens of thousands of lines).
    struct Key: Hashable {
        let bytes: ArraySlice<UInt8>
        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.bytes.elementsEqual(rhs.bytes)
        }
    }

    let bytes: [UInt8]
    /// One range per line, newline excluded; a final newline does not start an empty line.
    let ranges: [Range<Int>]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            ranges.append(start..<index)
            start = index + 1
        }
        if start < bytes.count { ranges.append(start..<bytes.count) }
        self.ranges = ranges
    }

    var count: Int { ranges.count }

    /// Line `index` as text (invalid UTF-8 shown as U+FFFD).
    func text(_ index: Int) -> String {
        String(decoding: bytes[ranges[index]], as: UTF8.self)
    }

    /// Each line's number in `ids`, adding lines not seen before.
    func intern(_ ids: inout [Key: Int]) -> [Int] {
        ranges.map { range in
            let key = Key(bytes: bytes[range])
            if let id = ids[key] { return id }
            let id = ids.count
            ids[key] = id
            return id
        }
    }
}
