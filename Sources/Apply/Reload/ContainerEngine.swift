import Foundation

/// The container engine the default reload actions call: `podman` or
/// `docker` (or any compatible program the operator names).
///
/// Chosen by `--engine`, then `$SUPERVISE_ENGINE`, then `podman` when it is
/// on `PATH`, else `docker`: the operator's machine decides, not the agent.
public struct ContainerEngine: Sendable, Equatable, CustomStringConvertible {
    /// The program name (or path) put first in every default command.
    public let program: String

    /// An engine run as `program`.
    public init(_ program: String) {
        self.program = program
    }

    public var description: String { program }

    /// The engine from a flag, the environment, or what is installed.
    public static func resolve(
        flag: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ContainerEngine {
        if let flag, !flag.isEmpty { return ContainerEngine(flag) }
        if let value = environment["SUPERVISE_ENGINE"], !value.isEmpty { return ContainerEngine(value) }
        return ContainerEngine(ExecutableLookup.find("podman", path: environment["PATH"]) != nil ? "podman" : "docker")
    }
}

/// Finds a program on `PATH` the way `execvp` would.
public enum ExecutableLookup {
    /// The absolute path of `program`, or `nil` when it is not found.
    public static func find(_ program: String, path: String?) -> String? {
        if program.contains("/") {
            return access(program, X_OK) == 0 ? program : nil
        }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}
