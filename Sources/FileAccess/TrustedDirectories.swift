#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opens a secret file by walking its path one directory at a time, each
/// directory checked to be one only the file's owner or root can change:
/// OpenSSH's `StrictModes` rule for `authorized_keys`, with an exception for
/// sticky directories such as `/tmp`, and without its race.
///
/// Why the file's own checks are not enough: whoever can write a directory
/// on the path can replace what lies below it with a name of their choosing
/// (a directory of theirs, a hard link, a link to another directory of the
/// operator's), so the secret read would be one they picked, even though
/// the file itself is the operator's and mode 0600. A directory passes when
/// it belongs to root or to the expected owner and neither its group nor
/// others may write it, or it is sticky: others may add names there, but
/// not rename or remove the owner's, and what they add belongs to them,
/// which the check of the next step refuses.
///
/// Why a walk of descriptors, not a look at the names followed by `open`:
/// between the look and the open, a directory on the way could be renamed
/// away or replaced (a directory of the attacker's in a sticky `/tmp` can
/// be). Here each directory is opened (`O_NOFOLLOW`, `O_PATH` where there
/// is one, so a directory the user may search but not list can be crossed),
/// checked with `fstat` of that descriptor, and the next name is looked up
/// relative to it: what is checked is what is used. A symbolic link on the
/// way must belong to root or the owner (one squatted in a sticky
/// directory by someone else is refused) and is followed by splicing its
/// target into the walk, so every directory it leads through is checked
/// too; `..` goes to the parent of the directory actually reached. The last
/// name is opened `O_NOFOLLOW`, so the file itself is never a link.
enum TrustedDirectories {
    /// The sticky bit (`S_ISVTX`): in such a directory only a name's owner may rename or remove it.
    static let sticky: mode_t = 0o1000

    /// The most links one walk follows, as the kernel's own limit (`ELOOP`).
    static let maximumLinks = 40

    /// The descriptor of the file at `path`, opened with `flags` (plus
    /// `O_NOFOLLOW | O_CLOEXEC`) below directories only `owner` or root can
    /// change; `nil` when no such file (or a directory on the way) exists.
    /// - Throws: ``FileAccessError/untrustedDirectory(path:directory:owner:mode:)``
    ///   for the first directory or link on the way that someone else could
    ///   change; `.symbolicLink` when the file is a link; `.io` otherwise.
    static func open(_ path: String, flags: Int32, owner: uid_t) throws(FileAccessError) -> Int32? {
        guard !path.isEmpty else { return nil }
        let absolute: String
        if path.hasPrefix("/") {
            absolute = path
        } else {
            guard let cwd = currentDirectory() else { throw .io(operation: "getcwd", path: path, errno: errno) }
            absolute = cwd + "/" + path
        }
        let parts = absolute.split(separator: "/").map(String.init)
        guard let name = parts.last else { throw .notRegularFile(path: path, type: S_IFDIR) }

        var directory = try openRoot(path: path, owner: owner)
        defer { close(directory) }
        var shown = "/"
        var pending = Array(parts.dropLast().reversed())
        var links = 0
        while let part = pending.popLast() {
            if part == "." { continue }
            let next = part == ".." ? parent(of: shown) : (shown == "/" ? "/" + part : shown + "/" + part)
            var info = stat()
            guard fstatat(directory, part, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return nil }
                throw .io(operation: "open", path: path, errno: errno)
            }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                guard info.st_uid == 0 || info.st_uid == owner else {
                    throw .untrustedDirectory(
                        path: path, directory: next, owner: UInt32(info.st_uid), mode: info.st_mode & 0o7777)
                }
                links += 1
                guard links <= maximumLinks, let target = readLink(part, in: directory) else {
                    throw .io(operation: "open", path: path, errno: links > maximumLinks ? ELOOP : errno)
                }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                if target.hasPrefix("/") {
                    let root = try openRoot(path: path, owner: owner)
                    close(directory)
                    directory = root
                    shown = "/"
                }
                continue
            }
            let child = openat(directory, part, directoryFlags)
            guard child >= 0 else {
                if errno == ENOENT { return nil }
                throw .io(operation: "open", path: path, errno: errno)
            }
            close(directory)
            directory = child
            shown = next
            try check(directory, shown: shown, path: path, owner: owner)
        }
        let file = openat(directory, name, flags | O_NOFOLLOW | O_CLOEXEC)
        guard file >= 0 else {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw .symbolicLink(path: path, directory: false)
            case let code: throw .io(operation: "open", path: path, errno: code)
            }
        }
        return file
    }

    /// How each directory on the way is opened: only to look names up in it and `fstat` it.
    private static var directoryFlags: Int32 {
        #if os(Linux)
            // O_PATH (Linux's 010000000 on every architecture Swift runs on): Glibc's module leaves it
            // behind _GNU_SOURCE.
            0o10_000_000 | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        #else
            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        #endif
    }

    /// `/`, opened and checked like every directory after it (a root
    /// directory others may write is refused too).
    private static func openRoot(path: String, owner: uid_t) throws(FileAccessError) -> Int32 {
        let root = Glibc.open("/", directoryFlags)
        guard root >= 0 else { throw .io(operation: "open", path: "/", errno: errno) }
        do {
            try check(root, shown: "/", path: path, owner: owner)
        } catch {
            close(root)
            throw error
        }
        return root
    }

    /// Whether a directory of `mode` lets its group or others rename what
    /// is in it: writable by them and not sticky.
    static func othersCanReplaceEntries(mode: mode_t) -> Bool {
        mode & 0o022 != 0 && mode & sticky == 0
    }

    /// Refuses the open directory `descriptor` (shown as `shown`) unless it
    /// belongs to root or `owner` and only they can write it, or it is sticky.
    private static func check(_ descriptor: Int32, shown: String, path: String, owner: uid_t) throws(FileAccessError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(operation: "stat", path: shown, errno: errno) }
        let ownerTrusted = info.st_uid == 0 || info.st_uid == owner
        if !ownerTrusted || othersCanReplaceEntries(mode: info.st_mode) {
            throw .untrustedDirectory(path: path, directory: shown, owner: UInt32(info.st_uid), mode: info.st_mode & 0o7777)
        }
    }

    /// The directory holding `path` (an absolute path), as text: for messages.
    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "/" }
        var result = trimmed[..<slash]
        while result.hasSuffix("/") { result = result.dropLast() }
        return result.isEmpty ? "/" : String(result)
    }

    /// The target of the link `name` in `directory`; `nil` (with `errno`) when it cannot be read.
    private static func readLink(_ name: String, in directory: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { readlinkat(directory, name, $0.baseAddress!, $0.count - 1) }
        }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    private static func currentDirectory() -> String? {
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}
