// Runs one diff algorithm on two files and reports its time, for bench/diff-review.sh
// (which measures the process's peak RSS around it).
// Usage: diff-review old|new OLD_FILE NEW_FILE
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let old = try? String(contentsOfFile: arguments[2], encoding: .utf8),
    let new = try? String(contentsOfFile: arguments[3], encoding: .utf8)
else {
    FileHandle.standardError.write(Data("usage: diff-review old|new OLD_FILE NEW_FILE\n".utf8))
    exit(2)
}
let clock = ContinuousClock()
let start = clock.now
let counts: (added: Int, removed: Int)
var outcome = "line diff"
if arguments[1] == "old" {
    counts = OldUnifiedDiff(old: old, new: new).counts
} else {
    let diff = UnifiedDiff(old: old, new: new)
    counts = diff.counts
    if diff.summary != nil { outcome = "summary (budget reached)" }
}
let elapsed = start.duration(to: clock.now)
let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
print(String(format: "%@: %.1f ms, %d added, %d removed, %@", arguments[1], ms, counts.added, counts.removed, outcome))
