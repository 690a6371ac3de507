import Logging
import ServiceLifecycle

/// The host's background service (`bottle-supervise watch`): named services
/// run side by side in one swift-service-lifecycle `ServiceGroup`, stopped
/// together on SIGTERM or SIGINT.
///
/// Each service is a loop of its own (notifications, grant expiry, finishing
/// interrupted applies); adding one — standing rules, reminders — is one
/// more ``HostService`` in the list. A service that fails is logged and the
/// others keep running: a broken notification channel must not stop grants
/// from ending.
public struct HostServiceGroup: Sendable {
    /// The services, in the order they are started and listed.
    public var services: [HostService]
    private let logger: Logger

    /// A group of `services`.
    public init(services: [HostService], logger: Logger) {
        self.services = services
        self.logger = logger
    }

    /// The names, for the start-up line (`notifications (ntfy), grant expiry, …`).
    public var names: [String] { services.map(\.name) }

    /// Runs every service until SIGTERM or SIGINT.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map {
                    .init(service: $0.service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// One service of the group, with the name the start-up line and the log give it.
public struct HostService: Sendable {
    /// What it is called (`grant expiry`).
    public let name: String
    /// The service.
    public let service: any Service

    /// A named service.
    public init(name: String, service: any Service) {
        self.name = name
        self.service = service
    }
}
