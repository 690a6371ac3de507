// Decision latency: how long a decision written to a bottle's queue takes to
// reach the call waiting for it (issue 2's benchmark).
//
// For each of N proposals: submit it, start a waiting caller through the
// sidecar's DecisionWaiter, then write the decision from a second queue value
// (as the host's console does) and time until the caller wakes. Two clocks:
//   visible→wake  from the rename that makes the decision file appear
//                 (the moment a reader can first see it) to the caller waking;
//   decide→wake   from the start of BottleQueue.decide (temp file, fsync,
//                 exclusive link, fsync of the directory) to the caller waking.
//
// Usage: queue-latency [--count N] [--dir PATH] [--poll]   (--poll forces the fallback)
import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

@main
struct QueueLatency {
    static func main() async throws {
        var count = 1000
        var usePolling = false
        var directory = FilePath(FileManager.default.temporaryDirectory.path).appending("queue-latency-\(getpid())")
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--count": count = Int(arguments.next() ?? "") ?? count
            case "--dir": directory = FilePath(arguments.next() ?? directory.string)
            case "--poll": usePolling = true
            default:
                FileHandle.standardError.write(Data("usage: queue-latency [--count N] [--dir PATH] [--poll]\n".utf8))
                exit(2)
            }
        }
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let bottle = try BottleSlug("bench")
        let sidecar = BottleQueue(directory: directory, bottle: bottle)
        let host = BottleQueue(directory: directory, bottle: bottle)
        let waiter = try DecisionWaiter(queue: sidecar, useInotify: !usePolling)

        var visibleToWake: [Duration] = []
        var decideToWake: [Duration] = []
        let clock = ContinuousClock()
        for index in 0..<count {
            let proposal = Proposal(
                bottle: bottle, tool: .pipelockBlock, proposedFile: "host\(index).example.com\n",
                justification: "bench", currentFileSHA256: nil)
            _ = try await sidecar.submit(proposal)
            let woke = Task { () -> ContinuousClock.Instant in
                _ = try await waiter.decision(for: proposal.id)
                return clock.now
            }
            while waiter.waitingCount == 0 { await Task.yield() }
            let decision = Decision(id: proposal.id, status: .approved, decidedBy: "bench")
            if index.isMultiple(of: 2) {
                // The visible moment is a rename we perform by hand with a prepared, fsynced file.
                let final = directory.appending("\(proposal.id).decision.json")
                let temp = directory.appending(".\(proposal.id).decision.json.bench.tmp")
                try AtomicFile.write(try QueueFormat.encode(decision), to: temp)
                let start = clock.now
                guard rename(temp.string, final.string) == 0 else {
                    throw QueueError.io(operation: "rename", path: temp.string, errno: errno)
                }
                visibleToWake.append(try await woke.value - start)
            } else {
                let start = clock.now
                try host.decide(decision)
                decideToWake.append(try await woke.value - start)
            }
            try await sidecar.archive(proposal.id)
        }
        print("queue-latency: \(count) proposals, \(waiter.isEventDriven ? "inotify" : "polling (fallback)")")
        report("visible→wake", visibleToWake)
        report("decide→wake ", decideToWake)
    }

    static func report(_ label: String, _ samples: [Duration]) {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return }
        func ms(_ duration: Duration) -> String {
            String(
                format: "%.3f ms",
                Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
        }
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        print(
            "  \(label)  n=\(sorted.count)  median \(ms(sorted[sorted.count / 2]))  p99 \(ms(p99))  worst \(ms(sorted.last!))"
        )
    }
}
