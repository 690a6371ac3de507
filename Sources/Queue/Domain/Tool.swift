/// The MCP tools that propose a file, one per config file a bottle's agent
/// may ask to change. The sidecar serves a fourth tool, `proposal-status`,
/// which proposes nothing and is not a case here.
///
/// Each tool carries the name of the argument that holds the full proposed
/// file and the name of that file in the bottle's current config, so the
/// sidecar, the console and the apply step share one table (the seed's
/// `PROPOSED_FILE_FIELD`) instead of three switch statements that drift.
public enum Tool: String, Codable, Sendable, CaseIterable, Hashable {
    /// A credential-proxy route is missing or wrong: proposes a new `routes.json`.
    case credProxyBlock = "cred-proxy-block"
    /// An egress host is not allowed: proposes a new pipelock `allowlist`.
    case pipelockBlock = "pipelock-block"
    /// A tool, package or permission is missing: proposes a new `Dockerfile`.
    case capabilityBlock = "capability-block"

    /// The tool argument that carries the full proposed file.
    public var fileArgument: String {
        switch self {
        case .credProxyBlock: "routes"
        case .pipelockBlock: "allowlist"
        case .capabilityBlock: "dockerfile"
        }
    }

    /// The file this tool proposes to replace, as named in the bottle's
    /// current-config directory and in its host config directory.
    public var configFile: ConfigFile {
        switch self {
        case .credProxyBlock: .routes
        case .pipelockBlock: .allowlist
        case .capabilityBlock: .dockerfile
        }
    }
}

/// A file of a bottle's config that an approved proposal can replace.
public enum ConfigFile: String, Codable, Sendable, CaseIterable, Hashable {
    /// cred-proxy's routes, a JSON object with a `routes` array.
    case routes = "routes.json"
    /// pipelock's egress allowlist, one hostname per line.
    case allowlist = "allowlist"
    /// The Dockerfile the bottle's image is built from.
    case dockerfile = "Dockerfile"

    /// The file's name inside a bottle's config directory.
    public var fileName: String { rawValue }

    /// The tool whose proposals replace this file.
    public var tool: Tool {
        switch self {
        case .routes: .credProxyBlock
        case .allowlist: .pipelockBlock
        case .dockerfile: .capabilityBlock
        }
    }

    /// Parses a file name as typed by an operator (`routes.json`, `routes`,
    /// `allowlist`, `Dockerfile`, `dockerfile`).
    public init?(argument: String) {
        switch argument {
        case "routes.json", "routes": self = .routes
        case "allowlist": self = .allowlist
        case "Dockerfile", "dockerfile": self = .dockerfile
        default: return nil
        }
    }
}
