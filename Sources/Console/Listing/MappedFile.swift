import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file mapped read-only into memory, for the ``ListingCache``:
/// its megabytes are read where they lie in the page cache, mapped in one
/// call (`MAP_POPULATE`), instead of being copied into a buffer page by page.
///
/// The mapping is private and read-only; the cache file is replaced by
/// rename, never written in place, so the mapped bytes do not change
/// under a reader.
final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only, never written through, and lives
    // as long as this object; any thread may read it.

    /// The file's bytes.
    let bytes: UnsafeBufferPointer<UInt8>
    private let base: UnsafeMutableRawPointer?

    static let empty = MappedFile()

    private init() {
        bytes = UnsafeBufferPointer(start: nil, count: 0)
        base = nil
    }

    /// Maps the regular file at `path` (a link is followed: the cache
    /// directory is the operator's own); `nil` when it is missing, not a
    /// regular file, empty, larger than `limit` or cannot be mapped.
    init?(_ path: FilePath, limit: Int) {
        let fd = open(path.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0, info.st_size <= limit
        else { return nil }
        let count = Int(info.st_size)
        #if canImport(Glibc)
            let flags = MAP_PRIVATE | MAP_POPULATE
        #else
            let flags = MAP_PRIVATE
        #endif
        guard let mapped = mmap(nil, count, PROT_READ, flags, fd, 0), mapped != MAP_FAILED else { return nil }
        base = mapped
        bytes = UnsafeBufferPointer(start: mapped.assumingMemoryBound(to: UInt8.self), count: count)
    }

    deinit {
        if let base { munmap(base, bytes.count) }
    }
}
