import Apply
import ArgumentParser
import Console
import Foundation
import SidecarCommandLine

/// `bottle-supervise notify`: `watch`'s older name, for announcing new
/// proposals without a console open. It runs the same services, and keeps
/// its own rule that the settings must name a channel.
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
            human; a policy that cannot be read is reported and no rule decides. It is `watch` under its older \
            name: where the config root exists it also ends time-boxed grants and finishes interrupted applies. \
            Stops on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @Option(help: "The host settings file (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()  // each notification's risk hint is against the bottle's current file
        let group = try HostServices.group(
            command: "notify", locations: locations, settings: settings, engine: apply.containerEngine,
            requireNotifications: true)
        try await group.run()
    }
}
