import Apply
import Foundation
import Queue

extension HostLocationOptions {
    /// Finishes applies a crash cut off (``Applier/recoverInterrupted(queueRoot:)``)
    /// before a host command reads the queue, so an agent whose apply was
    /// interrupted is answered by whichever host command runs next, and the
    /// operator is told. A failure here is reported and never stops the command:
    /// the queue can still be read and decided.
    /// - Parameter decisionsIn: the bottles a listing just found decision
    ///   files in (``Applier/recoverInterruptedOutcomes(queueRoot:decisionsIn:)``); `nil`: every bottle.
    func finishInterruptedApplies(command: String, decisionsIn: Set<BottleSlug>? = nil) {
        let applier = Applier(configRoot: configRoot, queueRoot: queueRoot)
        do {
            for (id, outcome) in try applier.recoverInterruptedOutcomes(queueRoot: queueRoot, decisionsIn: decisionsIn) {
                FileHandle.standardError.write(
                    Data(
                        "bottle-supervise \(command): finished an interrupted apply of \(id): \(Escaped(outcome.summary))\n"
                            .utf8))
            }
        } catch {
            FileHandle.standardError.write(
                Data("bottle-supervise \(command): could not finish interrupted applies: \(error)\n".utf8))
        }
    }
}
