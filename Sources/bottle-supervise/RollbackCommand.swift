import Apply
import ArgumentParser
import Foundation
import Queue
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise rollback SLUG FILE`: put back the previous version of a bottle's config file.
struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put back the previous version of a bottle's config file, and reload.",
        discussion: """
            Takes the newest version from <config-root>/SLUG/.history/FILE/, saves the current file there \
            first (so a rollback can itself be rolled back), runs the bottle's reload action for the file \
            and records the rollback in the audit log. If the reload fails, the file is left as it was.
            Exit status: 0 rolled back; 1 failed; 2 usage error; 3 nothing to roll back.
            """
    )

    @Argument(help: ArgumentHelp("The bottle's slug (\(BottleSlug.argumentRule)).", valueName: "slug"))
    var slug: BottleSlug

    @Argument(help: "The file to roll back.")
    var file: ConfigFile

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "rollback", engine: apply.containerEngine)
        locations.finishInterruptedApplies(command: "rollback")
        let applier = Applier(
            configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: apply.containerEngine,
            logger: ApplyOptions.commandLogger)
        let outcome: ApplyOutcome
        do {
            outcome = try await applier.rollback(bottle: slug, file: file)
        } catch let error as ApplyError {
            if case .nothingToRollBack = error { throw Failure.notFound(error.description) }
            throw Failure.failed(error.description)
        }
        guard outcome.state == .applied else {
            throw Failure.failed(
                outcome.summary + (outcome.outputTail.map { "\nthe reload's output ended with:\n\($0)" } ?? ""))
        }
        print(Escaped(outcome.summary))
    }
}
