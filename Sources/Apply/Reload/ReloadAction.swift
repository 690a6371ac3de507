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

        /// The default: container `{slug}`, image `localhost/{slug}:supervise`, built in `context`.
        public init(
            container: String = "{slug}", image: String = "localhost/{slug}:supervise", context: String
        ) {
            self.container = container
            self.image = image
            self.context = context
        }
    }

    /// The replacement's target with `{slug}` and `{file}` filled in.
    func resolvedReplacement(bottle: BottleSlug, file: FilePath) -> ContainerReplacement.Target? {
        replacement.map { replacement in
            func fill(_ template: String) -> String {
                ReloadAction.substitute(template, slug: bottle.rawValue, file: file.string)
            }
            return ContainerReplacement.Target(
                container: fill(replacement.container), image: fill(replacement.image), dockerfile: file.string,
                context: fill(replacement.context))
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
