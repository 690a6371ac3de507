import Apply
import ArgumentParser
import Foundation
import Queue
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

    @Argument(help: "The bottle's slug.")
    var slug: String

    @Argument(help: "The file: routes.json, allowlist or Dockerfile.")
    var file: String

    @OptionGroup var locations: HostLocationOptions

    @Option(
        help:
            "Container engine for the default reload actions (default: $SUPERVISE_ENGINE, then podman if installed, else docker)."
    )
    var engine: String?

    func run() async throws {
        locations.finishInterruptedApplies(command: "rollback")
        let bottle: BottleSlug
        do { bottle = try BottleSlug(slug) } catch {
            fail("\(error)", status: 2)
        }
        guard let configFile = ConfigFile(argument: file) else {
            fail("unknown file \(Escaped(file)); expected routes.json, allowlist or Dockerfile", status: 2)
        }
        let applier = Applier(
            configRoot: locations.configRoot, queueRoot: locations.queueRoot,
            engine: .resolve(flag: engine))
        do {
            let outcome = try await applier.rollback(bottle: bottle, file: configFile)
            if let tail = outcome.outputTail {
                FileHandle.standardError.write(Data("\(Escaped(tail, keepLayout: true))\n".utf8))
            }
            guard outcome.state == .applied else { fail(outcome.summary, status: 1) }
            print(Escaped(outcome.summary))
        } catch ApplyError.nothingToRollBack(let bottle, let file) {
            fail("\(ApplyError.nothingToRollBack(bottle: bottle, file: file))", status: 3)
        } catch {
            fail("\(error)", status: 1)
        }
    }

    private func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("bottle-supervise rollback: \(Escaped(message))\n".utf8))
        Foundation.exit(status)
    }
}
