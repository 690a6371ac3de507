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
    /// How long each command may run before its process group is killed.
    public var timeout: Duration

    /// A reload action.
    public init(commands: [[String]], timeout: Duration = .seconds(30)) {
        self.commands = commands
        self.timeout = timeout
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
