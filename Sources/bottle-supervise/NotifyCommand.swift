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
        abstract: "Watch every bottle's queue: apply the standing rules, announce new proposals on the channels of [notify].",
        discussion: """
            Reads [notify] from the host settings file (--settings, $SUPERVISE_SETTINGS, then \
            ~/.claude-bottle/host.toml; docs/notifications.md) and sends one notification per new proposal \
            to each channel: a webhook, an ntfy topic, a Slack incoming webhook, notify-send. Run it as a \
            service when no console is open; the console sends the same notifications while it runs, and \
            each proposal is announced once however many watchers run. It also applies the standing rules \
            ([[policy.rule]], docs/policy.md) to each new proposal, and announces only what a rule leaves to a \
            human; a policy that cannot be read is reported and no rule decides. Stops on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @Option(help: "The host settings file (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    func run() async throws {
        try locations.requireQueueRoot()
        let path = settings.map { FilePath($0) } ?? NotifySettings.defaultPath()
        let loaded: NotifySettings
        do {
            loaded = try NotifySettings.load(from: path)
        } catch {
            throw Failure.failed(error.description)
        }
        let source = PolicySource(settings: path)
        let rules = source.current()
        // Rules alone are a reason to run: they answer proposals with nobody at a console. So is a
        // policy that does not parse: this watcher is where that gets reported, not silently skipped.
        let hasRules: Bool
        switch rules {
        case .success(let policy): hasRules = !policy.rules.isEmpty
        case .failure: hasRules = true
        }
        guard loaded.isEnabled || hasRules else {
            throw Failure.failed(
                "\(path) sets no notification channel and no standing rule; add a [notify] table "
                    + "(docs/notifications.md) or [[policy.rule]] (docs/policy.md)")
        }
        var logger = Logger(label: "bottle-supervise.notify")
        logger.logLevel = .info
        let notifier = Notifier(
            settings: loaded, queueRoot: locations.queueRoot, configRoot: locations.configRoot, logger: logger)
        let runner = PolicyRunner(
            source: source, queueRoot: locations.queueRoot, configRoot: locations.configRoot,
            engine: apply.containerEngine, logger: logger
        ) { text, _ in
            FileHandle.standardError.write(Data("bottle-supervise notify: \(text)\n".utf8))
        }
        let root = QueueRoot(locations.queueRoot)
        let names = loaded.channels.map(\.name).joined(separator: ", ")
        let ruleCount = (try? rules.get())?.rules.count ?? 0
        FileHandle.standardError.write(
            Data(
                "bottle-supervise notify: watching \(locations.queueRoot) (\(names.isEmpty ? "no channels" : names); \(ruleCount) rule(s))\n"
                    .utf8))

        let watching = Task {
            let decided = await runner.consider()
            await notifier.notice(root.pendingProposals().filter { !decided.contains($0.id) })
            for await change in QueueWatch.changes(root: locations.queueRoot) {
                let decided = await runner.consider(change)
                await notifier.notice(
                    root.pendingProposals(of: change.bottle.map { [$0] }).filter { !decided.contains($0.id) })
            }
        }
        await Self.waitForTermination()
        watching.cancel()
        await notifier.cancelAll()
        await runner.drain()
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
