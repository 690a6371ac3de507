import Queue
import SystemPackage

/// What to run after a bottle file changed: one or more argument vectors,
/// run in order without a shell, each within ``timeout``.
///
/// The only substitutions are `{slug}` (the validated bottle slug) and
/// `{file}` (the absolute path of the file just written), both made by the
/// host from trusted values; no text an agent wrote (justification,
/// proposed file, notes) is ever part of an argument or the environment.
public struct ReloadAction: Sendable, Equatable {
    /// The argument vectors, before substitution; the first element of each
    /// is the program, looked up through `PATH`.
    public var commands: [[String]]
    /// The built-in Dockerfile action instead of commands: build the image
    /// and replace the bottle's container (``ContainerReplacement``).
    public var replacement: Replacement?
    /// How long each command may run before its process group is killed
    /// (for a replacement: how long the build may take).
    public var timeout: Duration

    /// A reload action that runs `commands`.
    public init(commands: [[String]], timeout: Duration = .seconds(30)) {
        self.commands = commands
        self.replacement = nil
        self.timeout = timeout
    }

    /// A reload action that builds an image and replaces a container with one from it.
    public init(replacing replacement: Replacement, timeout: Duration = .seconds(600)) {
        self.commands = []
        self.replacement = replacement
        self.timeout = timeout
    }

    /// What the replacement builds and replaces; `{slug}` is filled in as in commands.
    public struct Replacement: Sendable, Equatable {
        /// The container to replace.
        public var container: String
        /// The tag the new image is built under.
        public var image: String
        /// The build context directory.
        public var context: String
        /// What the build's `RUN` steps may reach (`build_network`).
        public var buildNetwork: BuildNetwork
        /// `allow_new_privileges = true`: a container that ran without
        /// `no-new-privileges` keeps running without it (by default the
        /// replacement adds it).
        public var allowNewPrivileges: Bool

        /// The default: container `{slug}`, image `localhost/{slug}:supervise`, built in `context`.
        public init(
            container: String = "{slug}", image: String = "localhost/{slug}:supervise", context: String,
            buildNetwork: BuildNetwork = .bottle, allowNewPrivileges: Bool = false
        ) {
            self.container = container
            self.image = image
            self.context = context
            self.buildNetwork = buildNetwork
            self.allowNewPrivileges = allowNewPrivileges
        }
    }

    /// The network a replacement's build runs its `RUN` steps on
    /// (`[reload.dockerfile] build_network`, docs/apply.md).
    public enum BuildNetwork: String, Sendable, Equatable, CaseIterable {
        /// No network: a `RUN` step that downloads fails.
        case none
        /// The bottle's own network, with its proxy settings as build
        /// arguments: downloads go through the bottle's egress, so pipelock's
        /// allowlist applies to the build as to the agent. The default.
        case bottle
        /// The host's network: the build reaches whatever the host reaches.
        case host
    }

    /// The replacement's target with `{slug}` and `{file}` filled in.
    func resolvedReplacement(bottle: BottleSlug, file: FilePath) -> ContainerReplacement.Target? {
        replacement.map { replacement in
            func fill(_ template: String) -> String {
                ReloadAction.substitute(template, slug: bottle.rawValue, file: file.string)
            }
            return ContainerReplacement.Target(
                container: fill(replacement.container), image: fill(replacement.image), dockerfile: file.string,
                context: fill(replacement.context), buildNetwork: replacement.buildNetwork,
                allowNewPrivileges: replacement.allowNewPrivileges)
        }
    }

    /// The commands with `{slug}` and `{file}` filled in.
    public func resolved(bottle: BottleSlug, file: FilePath) -> [[String]] {
        commands.map { argv in argv.map { ReloadAction.substitute($0, slug: bottle.rawValue, file: file.string) } }
    }

    /// Replaces `{slug}` and `{file}` in one pass, so a substituted value is
    /// never scanned again for placeholders.
    static func substitute(_ template: String, slug: String, file: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{slug}") {
                out += slug
                rest = tail.dropFirst("{slug}".count)
            } else if tail.hasPrefix("{file}") {
                out += file
                rest = tail.dropFirst("{file}".count)
            } else {
                out += "{"
                rest = tail.dropFirst()
            }
        }
        return out + rest
    }
}
