import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-or-nothing file writes, the only way the queue, the apply step and
/// the host commands write a file another process reads — and the guarded
/// reads, moves and directory creation that go with them (a read that never
/// follows a link nor blocks on a FIFO, a size cap), so one type is the
/// whole-file side of the file layer; directory-relative work is
/// ``DirectoryDescriptor``'s.
///
/// A write goes to a temp file in the *same* directory (`.<name>.<random>.tmp`,
/// so the final rename never crosses a file system), is fsynced, then renamed
/// (or, for an exclusive create, hard-linked) onto its name, and the
/// directory is fsynced so the new name survives a power cut. A reader
/// therefore sees the old file, the new file, or no file — never part of
/// one. A crash leaves at most a temp file, which ``removeStaleTempFiles(in:olderThan:)``
/// cleans on the next start.
///
/// A file gets exactly the `mode` asked for, whatever the writer's umask
/// (`fchmod` after `open`): across a container's bind mount, the host's
/// decision must stay readable by the sidecar's user (uid 10001) and the
/// sidecar's proposal by the operator's, even when an operator runs with
/// `umask 077` (docs/deployment.md).
public enum AtomicFile {
    /// Replaces (or creates) `path` with `data`.
    /// - Parameter durable: `fsync` the file and its directory, so a crash
    ///   leaves the old or the new file whole. `false` for a cache, which
    ///   may be lost but must never be read half written: the rename alone
    ///   still makes the switch atomic.
    public static func write(_ data: Data, to path: FilePath, mode: mode_t = 0o644, durable: Bool = true)
        throws(FileAccessError)
    {
        let temp = try writeTemp(data, beside: path, mode: mode, sync: durable)
        guard rename(temp.string, path.string) == 0 else {
            let code = errno
            unlink(temp.string)
            throw .io(operation: "rename to", path: path.string, errno: code)
        }
        if durable { try syncDirectory(of: path) }
    }

    /// Creates `path` with `data` only if nothing exists there yet.
    ///
    /// The exclusivity comes from `link(2)`, which fails with `EEXIST` when
    /// the name is taken: of any number of processes racing to create the
    /// same name, exactly one succeeds, and the file it creates is already
    /// complete when it appears.
    /// - Returns: `true` if this call created the file, `false` if it existed.
    @discardableResult
    public static func create(_ data: Data, at path: FilePath, mode: mode_t = 0o644) throws(FileAccessError) -> Bool {
        let staged = try stage(data, beside: path, mode: mode)
        do { try sync(staged) } catch {
            discard(staged)
            throw error
        }
        guard try link(staged, exclusivelyAt: path) else { return false }
        try syncDirectory(of: path)
        return true
    }

    /// Creates `name` in `directory` with `data` only if the name is free,
    /// relative to the directory's descriptor: the host's way to write into a
    /// queue directory, where the sidecar may have put a link under any name.
    ///
    /// The temp file is created `O_EXCL | O_NOFOLLOW` and named with `linkat`,
    /// which fails on any existing name (a link included) instead of writing
    /// through it.
    /// - Returns: `true` if this call created the file, `false` if the name was taken.
    @discardableResult
    public static func create(_ data: Data, named name: String, in directory: DirectoryDescriptor, mode: mode_t = 0o644)
        throws(FileAccessError) -> Bool
    {
        let temp = try writeTemp(data, beside: name, in: directory, mode: mode)
        defer { unlinkat(directory.descriptor, temp, 0) }
        guard linkat(directory.descriptor, temp, directory.descriptor, name, 0) == 0 else {
            if errno == EEXIST { return false }
            throw .io(operation: "create", path: directory.path.appending(name).string, errno: errno)
        }
        try syncDirectory(directory)
        return true
    }

    /// Replaces (or creates) `name` in `directory` with `data`, by `renameat`
    /// within the directory's descriptor: the name is replaced, whatever it
    /// was (a link included), and nothing is written through it.
    public static func write(_ data: Data, named name: String, in directory: DirectoryDescriptor, mode: mode_t = 0o644)
        throws(FileAccessError)
    {
        let temp = try writeTemp(data, beside: name, in: directory, mode: mode)
        guard renameat(directory.descriptor, temp, directory.descriptor, name) == 0 else {
            let code = errno
            unlinkat(directory.descriptor, temp, 0)
            throw .io(operation: "rename to", path: directory.path.appending(name).string, errno: code)
        }
        try syncDirectory(directory)
    }

    private static func writeTemp(_ data: Data, beside name: String, in directory: DirectoryDescriptor, mode: mode_t)
        throws(FileAccessError) -> String
    {
        var random = SystemRandomNumberGenerator()
        let temp = ".\(name).\(String(random.next() & 0xFFFF_FFFF, radix: 16)).tmp"
        let fd = openat(directory.descriptor, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(operation: "create", path: directory.path.appending(temp).string, errno: errno) }
        defer { close(fd) }
        var failure = fchmod(fd, mode) == 0 ? writeAll(data, to: fd) : errno
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if failure != 0 {
            unlinkat(directory.descriptor, temp, 0)
            throw .io(operation: "write", path: directory.path.appending(temp).string, errno: failure)
        }
        return temp
    }

    private static func syncDirectory(_ directory: DirectoryDescriptor) throws(FileAccessError) {
        if fsync(directory.descriptor) != 0, errno != EINVAL {
            throw .io(operation: "fsync directory", path: directory.path.string, errno: errno)
        }
    }

    /// Content written but not yet named: an unnamed inode (Linux's
    /// `O_TMPFILE`) or, where the file system lacks those, a temp file.
    /// The steps of a write taken apart (stage, sync, link, sync the
    /// directory) for a caller that batches them: the queue's group commit.
    ///
    /// Naming an unnamed inode is one directory operation where a temp file
    /// takes three (create, link, unlink): under 10,000 simultaneous calls,
    /// the queue directory's lock is where the sidecar waits.
    public enum Staged {
        case unnamed(Int32)
        case temp(FilePath)
    }

    /// Writes `data` into a new unnamed (or temp) file in `path`'s directory, unsynced.
    public static func stage(_ data: Data, beside path: FilePath, mode: mode_t) throws(FileAccessError) -> Staged {
        #if os(Linux)
            if unnamedFilesWork {
                let directory = path.removingLastComponent()
                let fd = open(directory.isEmpty ? "." : directory.string, openTmpFile | O_WRONLY | O_CLOEXEC, mode)
                if fd >= 0 {
                    let failure = fchmod(fd, mode) == 0 ? writeAll(data, to: fd) : errno
                    guard failure == 0 else {
                        close(fd)
                        throw .io(operation: "write", path: path.string, errno: failure)
                    }
                    return .unnamed(fd)
                }
                guard [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) else {
                    throw .io(operation: "create", path: path.string, errno: errno)
                }
            }
        #endif
        return .temp(try writeTemp(data, beside: path, mode: mode, sync: false))
    }

    /// fsyncs a staged file's content.
    public static func sync(_ staged: Staged) throws(FileAccessError) {
        switch staged {
        case .unnamed(let fd):
            if fsync(fd) != 0 { throw .io(operation: "fsync", path: "(unnamed)", errno: errno) }
        case .temp(let temp): try sync(temp)
        }
    }

    /// Names `staged` `path` unless the name is taken (`false`); the staged file is gone either way.
    public static func link(_ staged: Staged, exclusivelyAt path: FilePath) throws(FileAccessError) -> Bool {
        let code: Int32
        switch staged {
        case .unnamed(let fd):
            code = linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path.string, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno
            close(fd)
        case .temp(let temp):
            code = Glibc.link(temp.string, path.string) == 0 ? 0 : errno
            unlink(temp.string)
        }
        if code == 0 { return true }
        if code == EEXIST { return false }
        throw .io(operation: "create", path: path.string, errno: code)
    }

    /// Drops a staged file that will not be named.
    public static func discard(_ staged: Staged) {
        switch staged {
        case .unnamed(let fd): close(fd)
        case .temp(let temp): unlink(temp.string)
        }
    }

    #if os(Linux)
        /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Swift does not import.
        private static let openTmpFile: Int32 = 0o20_000_000 | O_DIRECTORY
        /// Naming an unnamed inode goes through `/proc/self/fd` (unprivileged `linkat`).
        private static let unnamedFilesWork = access("/proc/self/fd", F_OK) == 0
    #endif

    private static func writeAll(_ data: Data, to fd: Int32) -> Int32 {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }

    /// The contents of `path`, or `nil` when there is no such file.
    /// - Parameter regularOnly: refuse a symlink (`O_NOFOLLOW`) and anything
    ///   but a regular file, without blocking on a FIFO (`O_NONBLOCK`, then
    ///   `fstat`): for files looked up by name in a directory, where a planted
    ///   link must not stand for the file it points to nor a FIFO hang the reader.
    public static func read(_ path: FilePath, limit: Int = 64 << 20, regularOnly: Bool = false) throws(FileAccessError)
        -> Data?
    {
        let flags = regularOnly ? O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY : O_RDONLY | O_CLOEXEC
        let fd = open(path.string, flags)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            if code == ELOOP, regularOnly { throw .symbolicLink(path: path.string, directory: false) }
            throw .io(operation: "open", path: path.string, errno: code)
        }
        defer { close(fd) }
        // Sized by fstat: queue files are small, and a fixed 64 KiB buffer per
        // read is what 10,000 decisions arriving at once would allocate.
        var info = stat()
        let statted = fstat(fd, &info) == 0
        if regularOnly, !statted { throw .io(operation: "stat", path: path.string, errno: errno) }
        if regularOnly, (info.st_mode & S_IFMT) != S_IFREG {
            throw .notRegularFile(path: path.string, type: info.st_mode & S_IFMT)
        }
        let expected = statted ? Int(info.st_size) : 0
        var data = Data(count: min(max(expected, 0), limit) + 1)
        var count = 0
        while true {
            if count == data.count {
                guard data.count <= limit else {
                    throw .tooLarge(path: path.string, size: nil, limit: limit)
                }
                data.count = min(data.count * 2, limit + 1)
            }
            let read = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if read < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path.string, errno: errno)
            }
            if read == 0 { break }
            count += read
        }
        guard count <= limit else { throw .tooLarge(path: path.string, size: nil, limit: limit) }
        data.count = count
        return data
    }

    /// Moves `source` to `destination` and makes the move durable.
    public static func move(_ source: FilePath, to destination: FilePath) throws(FileAccessError) {
        guard rename(source.string, destination.string) == 0 else {
            throw .io(operation: "move", path: source.string, errno: errno)
        }
        try syncDirectory(of: destination)
        if source.removingLastComponent() != destination.removingLastComponent() {
            try syncDirectory(of: source)
        }
    }

    /// Removes temp files a crashed writer left in `directory`.
    ///
    /// Only temp files older than `age` go: a younger one may belong to a
    /// live writer in another process (the sidecar and the console share the
    /// directory), and a write takes milliseconds.
    /// - Returns: the names removed.
    @discardableResult
    public static func removeStaleTempFiles(in directory: FilePath, olderThan age: TimeInterval = 60)
        throws(FileAccessError) -> [String]
    {
        let cutoff = Date().addingTimeInterval(-age)
        var removed: [String] = []
        for name in try DirectoryListing.names(in: directory) where isTempName(name) {
            let path = directory.appending(name)
            var info = stat()
            guard lstat(path.string, &info) == 0 else { continue }
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            if modified < cutoff, unlink(path.string) == 0 {
                removed.append(name)
            }
        }
        return removed
    }

    /// Whether `name` is one of our temp files.
    static func isTempName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }

    /// Creates `directory` and any missing parents.
    public static func makeDirectory(_ directory: FilePath, mode: mode_t = 0o755) throws(FileAccessError) {
        if mkdir(directory.string, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, !directory.removingLastComponent().isEmpty,
            directory.removingLastComponent() != directory
        else {
            throw .io(operation: "create directory", path: directory.string, errno: errno)
        }
        try makeDirectory(directory.removingLastComponent(), mode: mode)
        guard mkdir(directory.string, mode) == 0 || errno == EEXIST else {
            throw .io(operation: "create directory", path: directory.string, errno: errno)
        }
    }

    // MARK: - Internals

    /// Writes `data` to a new temp file beside `path`, fsynced when `sync`.
    static func writeTemp(_ data: Data, beside path: FilePath, mode: mode_t, sync: Bool)
        throws(FileAccessError) -> FilePath
    {
        guard let name = path.lastComponent?.string else {
            throw .io(operation: "write", path: path.string, errno: EINVAL)
        }
        var random = SystemRandomNumberGenerator()
        let temp = path.removingLastComponent().appending(
            ".\(name).\(String(random.next() & 0xFFFF_FFFF, radix: 16)).tmp")
        let fd = open(temp.string, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(operation: "create", path: temp.string, errno: errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temp.string) }
        }
        let failure = fchmod(fd, mode) == 0 ? writeAll(data, to: fd) : errno
        if failure != 0 { throw .io(operation: "write", path: temp.string, errno: failure) }
        if sync, fsync(fd) != 0 { throw .io(operation: "fsync", path: temp.string, errno: errno) }
        ok = true
        return temp
    }

    /// fsyncs the file at `path` (an fsync needs no write access).
    static func sync(_ path: FilePath) throws(FileAccessError) {
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path.string, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .io(operation: "fsync", path: path.string, errno: errno) }
    }

    /// Writes out everything dirty on the file system holding `directory`
    /// (Linux's `syncfs`). Returns `false` where there is no syncfs.
    public static func syncFileSystem(of directory: FilePath) throws(FileAccessError) -> Bool {
        guard let syncfs = syncfsFunction else { return false }
        let fd = open(directory.isEmpty ? "." : directory.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open directory", path: directory.string, errno: errno) }
        defer { close(fd) }
        if syncfs(fd) != 0 { throw .io(operation: "syncfs", path: directory.string, errno: errno) }
        return true
    }

    /// glibc's `syncfs`, looked up at run time: Swift's Glibc module does not
    /// import it (it is behind `_GNU_SOURCE`).
    private static let syncfsFunction: (@convention(c) (Int32) -> Int32)? = {
        #if os(Linux)
            guard let symbol = dlsym(nil, "syncfs") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
        #else
            return nil
        #endif
    }()

    static func syncDirectory(of path: FilePath) throws(FileAccessError) {
        try syncDirectory(path.removingLastComponent())
    }

    public static func syncDirectory(_ directory: FilePath) throws(FileAccessError) {
        let fd = open(directory.isEmpty ? "." : directory.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io(operation: "open directory", path: directory.string, errno: errno)
        }
        defer { close(fd) }
        // Some file systems refuse fsync on a directory (EINVAL); the rename is still atomic there.
        if fsync(fd) != 0, errno != EINVAL {
            throw .io(operation: "fsync directory", path: directory.string, errno: errno)
        }
    }
}
