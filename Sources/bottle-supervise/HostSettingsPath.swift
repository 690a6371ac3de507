import Console
import Foundation
import SidecarCommandLine
import SystemPackage

/// The host settings file a command reads (`--settings`, then `$SUPERVISE_SETTINGS`, then
/// ~/.claude-bottle/host.toml), checked before it is read.
///
/// Only the default may be missing (no notifications then): a file the operator named, by flag or
/// variable, that is not there is a typo, and must not read as "sets no notification channel".
struct HostSettingsPath {
    let path: FilePath
    /// Where the path came from, for messages: `--settings`, `$SUPERVISE_SETTINGS`, or nil (the default).
    let origin: String?

    init(flag: String?, environment: EnvironmentFallback = EnvironmentFallback()) {
        if let flag {
            (path, origin) = (FilePath(flag), "--settings")
        } else if let variable = environment.text("SUPERVISE_SETTINGS") {
            (path, origin) = (FilePath(variable), "$SUPERVISE_SETTINGS")
        } else {
            (path, origin) = (NotifySettings.defaultPath(environment: environment.environment), nil)
        }
    }

    /// Fails (1) when a named file is missing or not a regular file.
    func requireNamedFile() throws(Failure) {
        guard let origin else { return }
        var info = stat()
        guard stat(path.string, &info) == 0 else {
            throw .failed(
                "the settings file \(path) does not exist (\(origin)); give the host settings file with a "
                    + "[notify] table (docs/notifications.md), or leave \(origin) out for \(NotifySettings.defaultPath())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .failed("the settings file \(path) is not a regular file (\(origin))")
        }
    }
}
