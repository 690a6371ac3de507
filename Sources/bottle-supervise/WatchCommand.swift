import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Logging
import SidecarCommandLine
import SystemPackage

/// `bottle-supervise watch`: the host's background service.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "The host's background service: notifications, grant expiry, finishing interrupted applies.",
        discussion: """
            Runs until SIGTERM or SIGINT, as a systemd user service (docs/grants.md has the unit): announces new \
            proposals on the channels of [notify] in the host settings file (--settings, $SUPERVISE_SETTINGS, then \
            ~/.claude-bottle/host.toml; none configured: no notifications; a $SUPERVISE_SETTINGS file that is missing \
            or does not parse: a warning, and no notifications or rules), ends time-boxed grants within 5 s of \
            their deadline, and finishes applies a crash cut off. `notify` is the same service under its older \
            name. Every other host command also ends overdue grants before it starts, so a stopped `watch` \
            delays an end only until the next command.
            """
    )

    @OptionGroup var locations: HostLocationOptions

    @Option(help: "The host settings file (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml).")
    var settings: String?

    @OptionGroup var apply: ApplyOptions

    func run() async throws {
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        let group = try HostServices.group(
            command: "watch", locations: locations, settings: settings, engine: apply.containerEngine,
            requireNotifications: false)
        try await group.run()
    }
}

/// The services `watch` (and `notify`) run, built from the command's options.
enum HostServices {
    /// The standing rules and, when `[notify]` sets channels, the notifications.
    /// - Throws: ``Failure`` when the settings file is named but missing, or does not parse.
    private static func notificationService(
        command: String, locations: HostLocationOptions, settings: String?, engine: ContainerEngine,
        requireNotifications: Bool, logger: Logger
    ) throws -> HostService? {
        let settingsPath = HostSettingsPath(flag: settings)
        try settingsPath.requireNamedFile()
        let path = settingsPath.path
        let loaded: NotifySettings
        do {
            loaded = try NotifySettings.load(from: path)
        } catch {
            throw Failure.failed(error.description)
        }
        let source = PolicySource(settings: path)
        // Rules alone are a reason to run: they answer proposals with nobody at a console. So is a
        // policy that does not parse: this watcher is where that gets reported, not silently skipped.
        let hasRules: Bool
        switch source.current() {
        case .success(let policy): hasRules = !policy.rules.isEmpty
        case .failure: hasRules = true
        }
        if requireNotifications, !loaded.isEnabled, !hasRules {
            throw Failure.failed(
                "\(path) sets no notification channel and no standing rule; add a [notify] table "
                    + "(docs/notifications.md) or [[policy.rule]] (docs/policy.md)")
        }
        let notifier =
            loaded.isEnabled
            ? Notifier(settings: loaded, queueRoot: locations.queueRoot, configRoot: locations.configRoot, logger: logger)
            : nil
        // The rules run even when the settings file has none yet: `approve --remember` and an edited
        // host.toml add rules while the service runs (the source reads the files again as they change).
        let rules = PolicyRunner(
            source: source, queueRoot: locations.queueRoot, configRoot: locations.configRoot, engine: engine,
            logger: logger
        ) { text, _ in
            FileHandle.standardError.write(Data("bottle-supervise \(command): \(text)\n".utf8))
        }
        let names = (["standing rules"] + (loaded.isEnabled ? ["notifications (\(loaded.channels.map(\.name).joined(separator: ", ")))"] : []))
            .joined(separator: ", ")
        return HostService(
            name: names, service: NotificationService(notifier: notifier, rules: rules, queueRoot: locations.queueRoot))
    }

    /// The fleet's relay, when the settings file has `[fleet] database` (or `$SUPERVISE_DATABASE_URL`
    /// is set); `nil` otherwise. Settings that do not work are said on standard error, and the
    /// host's own services run without the relay: the fleet is a mirror, never a gate.
    private static func fleetRelay(
        command: String, locations: HostLocationOptions, settings: String?, engine: ContainerEngine
    ) -> HostService? {
        do {
            let fleet = try RelayCommand.fleetSettings(settings: settings)
            guard let database = try RelayCommand.database(flag: nil, passwordFile: nil, fleet: fleet, required: false)
            else { return nil }
            let host = try RelayCommand.hostName(flag: nil, fleet: fleet)
            var configuration = Relay.Configuration(
                database: database, host: host, queueRoot: locations.queueRoot, configRoot: locations.configRoot,
                engine: engine)
            configuration.settings = HostSettingsPath(flag: settings).path
            let relay = Relay(
                configuration: configuration, logger: RelayCommand.logger,
                announce: RelayCommand.announcer(command: command))
            return HostService(name: "fleet relay (host \(host))", service: relay)
        } catch {
            FileHandle.standardError.write(
                Data("bottle-supervise \(command): warning: no fleet relay: \(error.message)\n".utf8))
            return nil
        }
    }

    /// The group: notifications when `[notify]` sets channels, grant expiry
    /// and interrupted applies when the config root exists.
    /// - Parameter requireNotifications: `notify`'s rule: no channel is an error.
    /// A settings file that is missing or does not parse stops `notify`; `watch`
    /// warns on standard error and runs grant expiry and recovery without it
    /// (a `--settings` flag naming no file still stops it: that is a typo at the prompt).
    static func group(
        command: String, locations: HostLocationOptions, settings: String?, engine: ContainerEngine,
        requireNotifications: Bool
    ) throws -> HostServiceGroup {
        var logger = Logger(label: "bottle-supervise.\(command)")
        logger.logLevel = .info
        // A --settings typed on the command line that names no file is a mistake to say at once (1).
        if settings != nil { try HostSettingsPath(flag: settings).requireNamedFile() }
        var services: [HostService] = []
        do {
            if let service = try notificationService(
                command: command, locations: locations, settings: settings, engine: engine,
                requireNotifications: requireNotifications, logger: logger)
            {
                services.append(service)
            }
        } catch {
            // `notify` exists for notifications and rules: without its settings it has nothing to do.
            // `watch` also ends grants and finishes interrupted applies, which must not stop on a
            // settings file gone missing (a grant would then never end): it says so and goes on.
            guard !requireNotifications else { throw error }
            let reason = (error as? Failure)?.message ?? "\(error)"
            FileHandle.standardError.write(
                Data(
                    "bottle-supervise \(command): warning: no notifications and no standing rules: \(reason)\n".utf8))
        }
        var info = stat()
        if stat(locations.configRoot.string, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            let applier = Applier(
                configRoot: locations.configRoot, queueRoot: locations.queueRoot, engine: engine, logger: logger)
            services.append(
                HostService(
                    name: "grant expiry",
                    service: GrantExpiryService(applier: applier, actor: "\(OperatorName.current) (\(command))", logger: logger)))
            services.append(
                HostService(name: "interrupted applies", service: InterruptedApplyService(applier: applier, logger: logger)))
        }
        if let relay = fleetRelay(command: command, locations: locations, settings: settings, engine: engine) {
            services.append(relay)
        }
        let group = HostServiceGroup(services: services, logger: logger)
        FileHandle.standardError.write(
            Data(
                "bottle-supervise \(command): watching \(locations.queueRoot) (\(group.names.joined(separator: ", ")))\n"
                    .utf8))
        return group
    }
}
