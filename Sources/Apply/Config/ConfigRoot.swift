import FileAccess
import Foundation
import Queue
import SystemPackage

/// The host's directory of bottle configs: `<config-root>/<slug>/routes.json`,
/// `allowlist`, `Dockerfile` and `supervise.toml`.
///
/// Each bottle's directory is what the bottle sees read-only as its current
/// config, so the apply step writes here and nowhere else. Paths are built
/// only from a validated ``BottleSlug`` and a ``ConfigFile``, never from
/// text an agent sent.
public struct ConfigRoot: Sendable {
    /// The config root directory.
    public let path: FilePath

    /// A config root at `path`; nothing is touched until it is used.
    public init(_ path: FilePath) {
        self.path = path
    }

    /// The config directory of one bottle.
    public func directory(of bottle: BottleSlug) -> FilePath {
        path.appending(bottle.rawValue)
    }

    /// Where `file` of `bottle` lives.
    public func path(of file: ConfigFile, for bottle: BottleSlug) -> FilePath {
        directory(of: bottle).appending(file.fileName)
    }

    /// The bottle's reload settings file, `supervise.toml`.
    public func settingsPath(for bottle: BottleSlug) -> FilePath {
        directory(of: bottle).appending("supervise.toml")
    }

    /// The bottle's current `file`, or `nil` when it has none.
    public func current(_ file: ConfigFile, for bottle: BottleSlug) throws(FileAccessError) -> String? {
        try AtomicFile.read(path(of: file, for: bottle)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// SHA-256 of the bottle's current `file` (`nil`: no such file), the hash
    /// a proposal records for conflict detection.
    public func currentSHA256(_ file: ConfigFile, for bottle: BottleSlug) throws(FileAccessError) -> String? {
        try AtomicFile.read(path(of: file, for: bottle)).map { SHA256Hex.of($0) }
    }

    /// The history of replaced versions of `file` of `bottle`.
    public func history(of file: ConfigFile, for bottle: BottleSlug) -> ConfigHistory {
        ConfigHistory(directory: directory(of: bottle).appending(".history").appending(file.fileName))
    }
}
