import Apply
import Foundation
import Queue

extension HostLocationOptions {
    /// Ends the grants whose deadline passed while no `watch` ran
    /// (``Applier/endOverdueGrants(now:by:)``), before a host command reads
    /// or decides anything: a host that was down, or a `watch` that was
    /// stopped, never leaves a grant running past its end for longer than it
    /// takes the operator to type a command. What was ended is said on
    /// standard error; a failure is reported and never stops the command.
    /// - Parameter engine: the engine the reload actions call (`--engine`, where the command has it).
    func endOverdueGrants(command: String, engine: ContainerEngine = .resolve()) async {
        let ledger = GrantLedger(queueRoot: queueRoot)
        // Most hosts have no ledger: one failed open, nothing else.
        guard access(ledger.path.string, F_OK) == 0 else { return }
        let applier = Applier(
            configRoot: configRoot, queueRoot: queueRoot, engine: engine, logger: ApplyOptions.commandLogger)
        do {
            for end in try await applier.endOverdueGrants() {
                FileHandle.standardError.write(
                    Data(
                        "bottle-supervise \(command): grant \(end.grant.id) of \(end.grant.bottle) ended: \(Escaped(end.outcome.summary))\n"
                            .utf8))
            }
        } catch {
            FileHandle.standardError.write(
                Data("bottle-supervise \(command): could not end overdue grants: \(Escaped("\(error)"))\n".utf8))
        }
    }
}
