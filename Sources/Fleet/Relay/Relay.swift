import Apply
import Foundation
import Logging
import PostgresNIO
import Queue
import ServiceLifecycle
import Synchronization
import SystemPackage

/// One host's relay: mirrors the host's queue root into the fleet's
/// PostgreSQL and applies, on this host, the decisions operators make in the
/// database about this host's bottles (`bottle-supervise relay`, or `watch`
/// with `[fleet] database`).
///
/// A session (``RelayPhase``): migrate when the role may, register the host,
/// finish applies a crash cut off, mirror the whole queue, deliver every
/// claim awaiting this host; then wait on two things only — the queue's
/// inotify watch (mirror the bottle that changed) and `LISTEN fleet_decisions`
/// (a claim for this host: deliver the awaiting claims) — plus a heartbeat
/// every 60 s. No polling: an idle relay costs nothing but two open
/// descriptors.
///
/// The database down or a connection lost ends the session: the relay says
/// so once, waits (``RelayBackoff``: 1 s doubling to 30 s) and starts a new
/// one, whose full mirror and delivery catch up with whatever happened
/// meanwhile. Every step is idempotent — a mirror of unchanged rows writes
/// nothing, a claim already in the queue is recognised as delivered — so a
/// relay killed at any instant, or two relays of one host, lose nothing and
/// make no second decision: the queue's exactly-one rule and the database's
/// primary key see to that. Meanwhile the host works on its files alone.
public struct Relay: Service {
    /// What the relay needs to know.
    public struct Configuration: Sendable {
        /// Where the database is.
        public var database: FleetDatabaseSettings
        /// This host's name in the fleet.
        public var host: FleetHostName
        /// The host's queue root.
        public var queueRoot: FilePath
        /// The host's config root (the claims are applied into it).
        public var configRoot: FilePath
        /// The engine the default reload actions call.
        public var engine: ContainerEngine
        /// How long between heartbeats (`last_seen`).
        public var heartbeat: Duration = .seconds(60)
        /// The host settings file whose `[fleet] approvals` and `[[policy.rule]]` set how many
        /// operators each proposal needs (``HostApprovalPolicy``); `nil`: one for every proposal.
        public var settings: FilePath?

        public init(
            database: FleetDatabaseSettings, host: FleetHostName, queueRoot: FilePath, configRoot: FilePath,
            engine: ContainerEngine
        ) {
            self.database = database
            self.host = host
            self.queueRoot = queueRoot
            self.configRoot = configRoot
            self.engine = engine
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    /// How many operators each proposal needs, read again when the settings file changes.
    private let approvals: HostApprovalPolicy?
    /// Lines for the operator (started, caught up, database lost and back), beside the log.
    private let announce: @Sendable (String) -> Void

    /// A relay; `announce` receives one line per change of state (standard error, from the commands).
    public init(configuration: Configuration, logger: Logger, announce: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.announce = announce
        self.approvals = configuration.settings.map { HostApprovalPolicy(settings: $0, logger: logger) }
    }

    /// Relays until the service group shuts down.
    public func run() async throws {
        try await relay()
    }

    /// Sessions, one after another, until shutdown.
    /// - Throws: ``FleetStoreError/needsMigration(_:)`` or ``FleetStoreError/schemaTooNew(_:)``: no
    ///   retry can mend those; the operator must run the migration, or upgrade this host.
    private func relay() async throws {
        if let warning = configuration.database.warning { announce("warning: \(warning)") }
        var backoff = RelayBackoff()
        let link = LinkState()
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                // A client per session: a pool that lost its server starts afresh, without the
                // backoff it built up while the database was down. It is shut down without waiting
                // for it: a query stuck on a connection whose server died would hold that wait.
                // The pool's own messages at error level only: an outage is said once, by the relay.
                var background = logger
                background.logLevel = max(logger.logLevel, .error)
                let client = PostgresClient(
                    configuration: try configuration.database.clientConfiguration(), backgroundLogger: background)
                let running = Task { await client.run() }
                defer { running.cancel() }
                try await cancelWhenGracefulShutdown {
                    try await session(store: FleetStore(client: client, logger: logger), link: link)
                }
            } catch let error as FleetStoreError {
                switch error {
                case .needsMigration, .schemaTooNew, .hostNameHeld:
                    // No retry mends these: said here too, for `watch`, whose group logs and goes on.
                    announce("stopped: \(error.message)")
                    throw error
                default: lost(error)
                }
            } catch {
                lost(error)
            }
            let delay = backoff.delay()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        }

        func lost(_ error: any Error) {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            if link.lost() {
                announce(
                    "the fleet database is unreachable (\(Self.describe(error))): this host keeps working on its "
                        + "files alone; retrying, and catching up when it is back")
                backoff.reset()
            } else {
                logger.debug("the fleet database is still unreachable", metadata: ["error": "\(Self.describe(error))"])
            }
        }
    }

    /// Whether the relay is connected, for the lines it announces: one when the database goes, one
    /// when it is back — not one per attempt.
    private final class LinkState: Sendable {
        private let down = Mutex<Bool?>(nil)
        private let caughtUpAt = Mutex<Date?>(nil)

        /// When a session of this process last caught up.
        var lastCaughtUp: Date? { caughtUpAt.withLock { $0 } }

        /// A session caught up; returns whether the database was down before (`nil`: the first session).
        func caughtUp() -> Bool? {
            caughtUpAt.withLock { $0 = Date() }
            return down.withLock { before in defer { before = false }; return before }
        }

        /// A session failed; returns whether this is news (it was up, or never connected yet).
        func lost() -> Bool { down.withLock { before in defer { before = true }; return before != true } }
    }

    /// One session: catch up, then follow the queue and the claims until the connection fails.
    private func session(store: FleetStore, link: LinkState) async throws {
        let host = configuration.host
        var mirror = QueueMirror(
            host: host, root: QueueRoot(configuration.queueRoot), configRoot: ConfigRoot(configuration.configRoot),
            logger: logger, approvals: approvals)
        // Migrates when behind (a role that may not: a message naming the command), else checks only.
        try await FleetDeadline.within(Self.connectLimit, doing: "connecting") { try await store.migrator.migrate() }
        // When the database last heard from this host: what was archived since is mirrored too.
        let lastSeen = try await FleetDeadline.within(Self.stepLimit, doing: "registering host \(host)") {
            let lastSeen = try await store.hosts().first { $0.host == host }?.lastSeen
            try await store.registerHost(host, version: ProductVersion.current)
            return lastSeen
        }
        let applier = Applier(
            configRoot: configuration.configRoot, queueRoot: configuration.queueRoot, engine: configuration.engine,
            logger: logger)
        let delivery = ClaimDelivery(host: host, root: QueueRoot(configuration.queueRoot), applier: applier, logger: logger)
        finishInterruptedApplies(applier)
        var audit = AuditHeadMirror(host: host, queueRoot: configuration.queueRoot, logger: logger)
        try await audit.send(to: store)

        let inbox = RelayInbox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer {
                group.cancelAll()
                inbox.finish()
            }
            // Watched before the full mirror, so a change made while it runs is not missed.
            let changes = QueueWatch.changes(root: configuration.queueRoot)
            group.addTask {
                for await change in changes { inbox.mark { $0.queueChanged(change.bottle) } }
            }
            // Listening before the awaiting claims are read, for the same reason.
            let claims = try await FleetDeadline.within(Self.stepLimit, doing: "listening") {
                try await store.changes(channel: FleetSchema.decisionChannel)
            }
            group.addTask {
                do {
                    for try await payload in claims where payload == host.rawValue { inbox.mark { $0.claimsAnnounced() } }
                    inbox.mark { $0.connectionLost("the database ended the LISTEN") }
                } catch {
                    inbox.mark { $0.connectionLost(Self.describe(error)) }
                }
            }
            group.addTask { [interval = configuration.heartbeat] in
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    inbox.mark { $0.heartbeatTick() }
                }
            }
            // What the database still lists live for this host is looked up in the queue too, so
            // what was decided and archived while no relay ran arrives decided, not just archived.
            let listed = try await FleetDeadline.within(Self.stepLimit, doing: "reading host \(host)'s proposals") {
                try await store.proposals(host: host, bottle: nil, includeDecided: false)
            }
            for row in listed {
                mirror.liveBefore[row.bottle, default: []].insert(row.id)
            }
            // A margin for the clocks of host and database.
            // Since this process last caught up, else since the database last heard from the host.
            let since = link.lastCaughtUp ?? lastSeen
            try await mirrorAll(mirror.hostSnapshot(archivedSince: since.map { $0.addingTimeInterval(-3600) }), store: store)
            if try await deliverAwaiting(store: store, delivery: delivery) { try await audit.send(to: store) }
            switch link.caughtUp() {
            case nil: announce("relaying host \(host) to \(configuration.database.redactedURL): caught up")
            case true?: announce("the fleet database is back: caught up")
            case false?: break
            }

            // One step at a time, the most urgent first (``RelayWork``): a bottle whose sidecar
            // floods its directory is mirrored once per turn, and claims go ahead of it.
            for await _ in inbox.wakeUps {
                while let step = inbox.next() {
                    switch step {
                    case .mirrorBottle(let bottle):
                        try await mirrorAll(mirror.bottleSnapshot(bottle), store: store)
                    case .mirrorHost:
                        try await mirrorAll(mirror.hostSnapshot(), store: store)
                    case .deliverClaims:
                        if try await deliverAwaiting(store: store, delivery: delivery) { try await audit.send(to: store) }
                    case .heartbeat:
                        try await FleetDeadline.within(Self.stepLimit, doing: "sending the heartbeat") {
                            try await store.heartbeat(host)
                        }
                        finishInterruptedApplies(applier)
                        // A claim whose delivery failed (a full disk) is tried again once a minute,
                        // not only when another claim is announced.
                        _ = try await deliverAwaiting(store: store, delivery: delivery)
                        // A decision made on the host itself (approve, the console, a rule) appended to the log.
                        try await audit.send(to: store, unlessUnchanged: true)
                    case .lost(let reason):
                        throw FleetStoreError.unavailable(reason)
                    }
                }
            }
        }
    }

    /// How long connecting may take before the database counts as down.
    static let connectLimit: Duration = .seconds(10)
    /// How long one step (a mirror of the whole host in one transaction, at most) may take.
    static let stepLimit: Duration = .seconds(30)

    /// Writes `snapshot` (only what changed; see ``FleetStore/mirror(_:)``).
    private func mirrorAll(_ snapshot: FleetSnapshot, store: FleetStore) async throws {
        try await FleetDeadline.within(Self.stepLimit, doing: "mirroring host \(snapshot.host)") {
            try await store.mirror(snapshot)
        }
    }

    /// Delivers every claim awaiting this host, recording the host's word on each.
    /// - Returns: whether one was delivered (applied or rejected here: the audit log has a new record).
    @discardableResult
    private func deliverAwaiting(store: FleetStore, delivery: ClaimDelivery) async throws -> Bool {
        var delivered = false
        let host = configuration.host
        let claims = try await FleetDeadline.within(Self.stepLimit, doing: "reading the decisions awaiting host \(host)") {
            try await store.awaitingDecisions(host: host)
        }
        for claim in claims {
            let word: FleetDelivery
            do {
                word = try await delivery.deliver(claim)
            } catch {
                logger.error(
                    "could not deliver a decision; it stays awaiting",
                    metadata: ["proposal": "\(claim.id)", "bottle": "\(claim.bottle)", "error": "\(error)"])
                continue
            }
            try await FleetDeadline.within(Self.stepLimit, doing: "recording a delivery") {
                try await store.recordDelivery(host: claim.host, bottle: claim.bottle, id: claim.id, word)
            }
            switch word {
            case .delivered(let outcome):
                delivered = true
                announce(
                    "\(claim.status.rawValue) \(claim.id) (\(claim.bottle)) by \(Escaped(claim.decidedBy)) through the database"
                        + (outcome.map { ": \($0.summary)" } ?? ""))
            case .superseded(let local):
                announce(
                    "\(claim.id) (\(claim.bottle)): the decision by \(Escaped(claim.decidedBy)) through the database came after this "
                        + "host's own (\(local.status.rawValue) by \(Escaped(local.decidedBy))), which stands")
            case .refused(let reason):
                announce("\(claim.id) (\(claim.bottle)): the decision by \(Escaped(claim.decidedBy)) was refused: \(Escaped(reason))")
            }
        }
        return delivered
    }

    private func finishInterruptedApplies(_ applier: Applier) {
        do {
            for (id, outcome) in try applier.recoverInterruptedOutcomes(queueRoot: configuration.queueRoot) {
                logger.warning("finished an interrupted apply", metadata: ["proposal": "\(id)", "outcome": "\(outcome.summary)"])
            }
        } catch {
            logger.error("could not finish interrupted applies", metadata: ["error": "\(error)"])
        }
    }

    /// An error in one line: the store's own sentence, else its description.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? FleetStoreError { return error.message }
        return String(describing: error)
    }
}
