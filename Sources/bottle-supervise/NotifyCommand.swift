import ArgumentParser
import Console
import Foundation
import Logging
import Queue
import SystemPackage

/// `bottle-supervise notify`: announce new proposals without a console open.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Watch every bottle's queue and announce new proposals on the channels of [notify].",
        discussion: """
            Reads [notify] from the host settings file (--settings, $SUPERVISE_SETTINGS, then \
            ~/.claude-bottle/host.toml; docs/notifications.md) and sends one notification per new proposal \
            to each channel: a webhook, an ntfy topic, a Slack incoming webhook, notify-send. Run it as a \
            service when no console is open; the console sends the same notifications while it runs, and \
            each proposal is announced once however many watchers run. Stops on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @Option(help: "The host settings file (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // each notification's risk hint is against the bottle's current file
        let settingsPath = HostSettingsPath(flag: settings)
        try settingsPath.requireNamedFile()
        let path = settingsPath.path
        let loaded: NotifySettings
        do {
            loaded = try NotifySettings.load(from: path)
        } catch {
            throw Failure.failed(error.description)
        }
        guard loaded.isEnabled else {
            throw Failure.failed("\(path) sets no notification channel; add a [notify] table (docs/notifications.md)")
        }
        var logger = Logger(label: "bottle-supervise.notify")
        logger.logLevel = .info
        let notifier = Notifier(
            settings: loaded, queueRoot: locations.queueRoot, configRoot: locations.configRoot, logger: logger)
        let root = QueueRoot(locations.queueRoot)
        let names = loaded.channels.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("bottle-supervise notify: watching \(locations.queueRoot) (\(names))\n".utf8))

        let watching = Task {
            await notifier.notice(root.pendingProposals())
            for await change in QueueWatch.changes(root: locations.queueRoot) {
                await notifier.notice(root.pendingProposals(of: change.bottle.map { [$0] }))
            }
        }
        await Self.waitForTermination()
        watching.cancel()
        await notifier.cancelAll()
    }


    /// Returns when SIGINT or SIGTERM arrives.
    static func waitForTermination() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
