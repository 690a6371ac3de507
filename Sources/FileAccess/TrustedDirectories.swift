#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether every directory on the way to a secret file is one only its
/// owner (or root) can change: OpenSSH's `StrictModes` rule for
/// `authorized_keys`, with one exception for sticky directories such as `/tmp`.
///
/// Why the file's own checks are not enough: whoever can write a directory
/// on the path can replace what lies below it with a name of their choosing
/// (a directory of theirs, a hard link, a link to another directory of the
/// operator's), so the secret read would be one they picked, even though the
/// file itself is the operator's and mode 0600. A directory passes when it
/// belongs to root or to the expected owner and neither its group nor others
/// may write it, or it is sticky (`/tmp`: others may add names there, but not
/// rename or remove the owner's, and a name they add belongs to them, which
/// the next directory's or the file's owner check refuses).
///
/// Both ways to the file are checked: every directory the path names
/// (`/srv/x/secrets`, `/srv/x`, `/srv`, `/`), and every directory of its
/// resolved form (`realpath`), which covers the targets of symbolic links
/// on the way (`/var/run` → `/run`). A link itself cannot be changed, only
/// replaced by whoever can write the directory holding it, which is checked.
enum TrustedDirectories {
    /// The sticky bit (`S_ISVTX`): in such a directory only a name's owner may rename or remove it.
    static let sticky: mode_t = 0o1000

    /// Throws ``FileAccessError/untrustedDirectory(path:directory:owner:mode:)``
    /// for the first directory above `path` that someone other than `owner`
    /// or root could change.
    static func check(above path: String, owner: uid_t) throws(FileAccessError) {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var chains = [ancestors(of: parent(of: absolute))]
        if let resolved = realPath(parent(of: absolute)) { chains.append(ancestors(of: resolved)) }
        for chain in chains {
            for directory in chain {
                var info = stat()
                // A directory that vanished meanwhile has nothing left to replace; the open already succeeded.
                guard stat(directory, &info) == 0 else { continue }
                let ownerTrusted = info.st_uid == 0 || info.st_uid == owner
                let writableByOthers = info.st_mode & 0o022 != 0 && info.st_mode & Self.sticky == 0
                if !ownerTrusted || writableByOthers {
                    throw .untrustedDirectory(
                        path: path, directory: directory, owner: UInt32(info.st_uid), mode: info.st_mode & 0o7777)
                }
            }
        }
    }

    /// `/a/b/c`, `/a/b`, `/a`, `/`: the directory and each one above it.
    static func ancestors(of directory: String) -> [String] {
        var result: [String] = []
        var current = directory
        while true {
            result.append(current)
            if current == "/" { break }
            current = parent(of: current)
        }
        return result
    }

    /// The directory holding `path` (an absolute path), without touching the file system.
    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "/" }
        var result = trimmed[..<slash]
        while result.hasSuffix("/") { result = result.dropLast() }
        return result.isEmpty ? "/" : String(result)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}
