import ArgumentParser
import Console
import Foundation
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise console`: the interactive operator TUI.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Review and decide pending proposals of every bottle, live.",
        discussion: """
            Lists every pending proposal of every bottle under the queue root, oldest first, and updates \
            as proposals arrive, are withdrawn or expire. Enter shows the justification and the diff against \
            the bottle's current file; a approves, m modifies (in $VISUAL/$EDITOR), r rejects; ? lists all keys.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @Flag(name: .customLong("no-bell"), help: "Do not ring the terminal bell when a proposal arrives.")
    var noBell = false

    @Option(help: "Open with only the proposals whose bottle or tool contains this text (`/` changes it).")
    var filter: String = ""

    @Option(
        help: "The host settings file: [notify] says where to announce new proposals, [[policy.rule]] and [answers] are the standing rules and preset answers (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml)."
    )
    var settings: String?

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // approvals are applied into it
        await locations.endOverdueGrants(command: "console", engine: apply.containerEngine)
        let settingsPath = HostSettingsPath(flag: settings)
        try settingsPath.requireNamedFile()
        let path = settingsPath.path
        let notifications = Result { () throws(NotifySettingsError) in try NotifySettings.load(from: path) }
        let app = ConsoleApp(
            queueRoot: locations.queueRoot, configRoot: locations.configRoot, engine: apply.containerEngine,
            bell: !noBell, filter: filter, notifications: notifications, policy: PolicySource(settings: path))
        do {
            try await app.run()
        } catch let error as TerminalError {
            // A usage error (status 2, as PRODUCT.md fixes): the command was run without a terminal.
            throw Failure.usage(error.description)
        }
    }
}
