import CLinuxCalls
import FoundationEssentials
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A directory opened without following links, and the files in it opened,
/// listed, read and named relative to its descriptor: the one way the host
/// reads a directory someone else writes (a bottle's queue, which the
/// sidecar writes and which must be assumed hostile).
///
/// Any name in such a directory may be a symbolic link to a file outside
/// it, a FIFO that blocks a reader forever, a device that never ends, or a
/// hard link. Paths are therefore never resolved again after the directory
/// is opened:
///
/// - the directory itself is opened with `O_DIRECTORY | O_NOFOLLOW`, and a
///   subdirectory (`archive/`) with `openat` and the same flags, so a
///   symlinked directory is refused, never entered;
/// - a file is opened with `openat(…, O_NOFOLLOW | O_NONBLOCK)` — a link
///   fails, a FIFO opens without waiting for a writer — and `fstat` must
///   say *regular file* of at most the caller's limit before one byte is
///   read; the read stops at the limit whatever the file claims;
/// - names are created with an exclusive `linkat` and replaced with
///   `renameat` relative to the descriptor (``AtomicFile``'s `named:in:`
///   variants), which replace a name and never write through one.
///
/// A hard link is a regular file and is read like one: the host only ever
/// reads such files, never writes into an existing one, so a hard link can
/// at most show the operator a file they can read anyway.
///
/// `Sendable` as checked by the compiler: two immutable stored properties,
/// the descriptor closed only in `deinit`.
public final class DirectoryDescriptor: Sendable {

    /// The open directory.
    public let descriptor: Int32
    /// Its path, for messages only: never opened again.
    public let path: FilePath

    private init(descriptor: Int32, path: FilePath) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens the directory at `path`; `nil` when nothing is there.
    /// - Throws: ``FileAccessError/symbolicLink(path:directory:)`` when the last
    ///   component is a symbolic link; a file that is not a directory is `nil`.
    public static func open(_ path: FilePath) throws(FileAccessError) -> DirectoryDescriptor? {
        let fd = Glibc.open(path.string, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        let code = errno
        return try wrap(fd, errno: code, path: path) {
            var info = stat()
            return lstat(path.string, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
        }
    }

    /// Opens the subdirectory `name`; `nil` when it does not exist.
    public func subdirectory(_ name: String) throws(FileAccessError) -> DirectoryDescriptor? {
        let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        let code = errno
        return try Self.wrap(fd, errno: code, path: path.appending(name)) {
            var info = stat()
            return fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
        }
    }

    /// `isLink` tells a link (Linux answers `O_DIRECTORY | O_NOFOLLOW` on one
    /// with `ENOTDIR` or `ELOOP`) from a plain file where a directory would be —
    /// the queue root's `audit.log` is named like a slug — which holds no
    /// queue: nothing there, as when missing.
    private static func wrap(_ fd: Int32, errno code: Int32, path: FilePath, isLink: () -> Bool)
        throws(FileAccessError) -> DirectoryDescriptor?
    {
        if fd >= 0 { return DirectoryDescriptor(descriptor: fd, path: path) }
        switch code {
        case ENOENT: return nil
        case ENOTDIR where !isLink(): return nil
        case ELOOP, ENOTDIR:
            throw .symbolicLink(path: path.string, directory: true)
        default: throw .io(operation: "open directory", path: path.string, errno: code)
        }
    }

    /// The names in the directory (not `.` or `..`).
    public func names() throws(FileAccessError) -> [String] {
        #if os(Linux)
            var names: [String] = []
            let code = DirectoryEntries.forEach(in: descriptor) { name in
                if name != "." && name != ".." { names.append(name) }
            }
            guard code == 0 else { throw .io(operation: "list", path: path.string, errno: code) }
            return names
        #else
            return try namesThroughReaddir()
        #endif
    }

    private func namesThroughReaddir() throws(FileAccessError) -> [String] {
        let copy = dup(descriptor)
        guard copy >= 0, let handle = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw .io(operation: "list", path: path.string, errno: code)
        }
        defer { closedir(handle) }
        rewinddir(handle)
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = DirectoryListing.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether something (of any type, a link included) has the name `name`.
    public func contains(_ name: String) -> Bool {
        var info = stat()
        return fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// Whether `name` is a regular file (not a link, FIFO, device or directory).
    public func containsRegularFile(_ name: String) -> Bool {
        var info = stat()
        return fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The identity of the regular file `name` (``FileIdentity``), from a
    /// no-follow `fstatat`: what the listing cache compares instead of
    /// reading the file. `nil` for anything else (missing, a link, a FIFO),
    /// which a reader then opens through ``read(_:limit:)`` to learn why.
    public func identity(of name: String) -> FileIdentity? {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return nil
        }
        return FileIdentity(info)
    }

    /// The contents of the regular file `name`, or `nil` when there is none.
    /// - Throws: ``FileAccessError`` for a link, a FIFO, a device, a
    ///   directory or a file over `limit` bytes — before reading a byte of it.
    public func read(_ name: String, limit: Int) throws(FileAccessError) -> Data? {
        try readVersion(name, limit: limit)?.data
    }

    /// ``read(_:limit:)``, and with `pinning`, the identity that names
    /// exactly the bytes returned (``FileIdentity``), for the listing cache.
    ///
    /// Pinning writes the file's dirty pages back first (`sync_file_range`),
    /// then takes the identity from `fstat` of the open file, then reads.
    /// The write-back is what makes the change time trustworthy against a
    /// writer holding the file mapped shared: the kernel sets the change
    /// time on the first store to a clean page, and stores to a page
    /// already dirty change nothing, so without it a sidecar could write
    /// once (time set), let the host cache the file, and store new bytes
    /// into the still-dirty page with the time unchanged. Written back, the
    /// page is write-protected in every mapping, and the next store faults
    /// and sets a change time later than the one read. Any other change
    /// during or after the read does the same.
    /// - Returns: the identity only when pinning was asked and the write-back succeeded.
    public func readVersion(_ name: String, limit: Int, pinning: Bool = false)
        throws(FileAccessError) -> (data: Data, identity: FileIdentity?)?
    {
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        // Built only for a message: FilePath arithmetic is not free, and a scan reads thousands of files.
        func pathText() -> String { path.appending(name).string }
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw .symbolicLink(path: pathText(), directory: false)
            case let code: throw .io(operation: "open", path: pathText(), errno: code)
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: pathText(), errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .notRegularFile(path: pathText(), type: info.st_mode & S_IFMT)
        }
        guard Int(info.st_size) <= limit else {
            throw .tooLarge(path: pathText(), size: Int64(info.st_size), limit: limit)
        }
        var identity: FileIdentity?
        if pinning, supervise_write_back(fd) == 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            identity = FileIdentity(info)
        }
        var data = Data(count: Int(info.st_size) + 1)
        var count = 0
        while count < data.count {
            let read = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if read < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: pathText(), errno: errno)
            }
            if read == 0 { break }
            count += read
            // A file that grows while it is read is cut at the cap, never followed further.
            if count == data.count, data.count <= limit { data.count = min(data.count * 2, limit + 1) }
        }
        guard count <= limit else { throw .tooLarge(path: pathText(), size: nil, limit: limit) }
        data.count = count
        return (data, identity)
    }

    /// Whether the file system holding the directory sets a file's change
    /// time on a store through a shared mapping once its dirty pages are
    /// written back (ext2/3/4, XFS, Btrfs: their `page_mkwrite` does), which
    /// ``readVersion(_:limit:pinning:)`` relies on. tmpfs never does, and
    /// FUSE, NFS, 9p or overlay answer for another file system or another
    /// host's clock, so the listing cache is not used there.
    public var keepsChangeTimes: Bool {
        switch supervise_file_system_type(descriptor) {
        case 0xEF53, 0x5846_5342, 0x9123_683E: true
        default: false
        }
    }
}
