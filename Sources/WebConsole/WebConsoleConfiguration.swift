import Apply
import Console
import SystemPackage

/// How `bottle-supervise web` is run: where it listens, which names it
/// answers to, where the queues and configs are, and its secrets' file.
public struct WebConsoleConfiguration: Sendable {
    /// The address to listen on; loopback by default, never a bottle's network.
    public var bind = "127.0.0.1"
    /// The port; 0 picks a free one (printed at start).
    public var port = 9200
    /// Host names besides loopback and the bind address that the page may be
    /// reached by (the laptop's name on the LAN, a reverse proxy's name).
    public var allowedHosts: [String] = []
    /// A PEM certificate chain and key: serve HTTPS.
    public var tlsCertificate: FilePath?
    public var tlsKey: FilePath?
    /// The access token file (created 0600 on first start).
    public var tokenFile: FilePath
    /// The queue root (one directory per bottle).
    public var queueRoot: FilePath
    /// The config root (each bottle's current files).
    public var configRoot: FilePath
    /// Notifications to send while the page runs (`[notify]`).
    public var notifications = NotifySettings()
    /// The engine the default reload actions call when a decision is applied (`--engine`).
    public var engine: ContainerEngine = .resolve()
    /// The standing rules and preset answers (`[[policy.rule]]`, `[answers]`);
    /// `nil`: none (the page offers no preset answers, no rule runs).
    public var policy: PolicySource?
    /// The fleet database (`--database`): the page shows and decides every
    /// host's proposals through it instead of this host's queue; `nil`: this host only.
    public var fleet: FleetWeb?

    public init(tokenFile: FilePath, queueRoot: FilePath, configRoot: FilePath) {
        self.tokenFile = tokenFile
        self.queueRoot = queueRoot
        self.configRoot = configRoot
    }

    /// Whether the page is served over TLS.
    public var usesTLS: Bool { tlsCertificate != nil }
}
