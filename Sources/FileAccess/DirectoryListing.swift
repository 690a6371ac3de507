import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Directory listings without Foundation's FileManager, which allocates a URL
/// per entry: the console lists thousands of queue files per frame.
public enum DirectoryListing {
    /// The names in `directory` (not `.` or `..`); empty when it does not exist.
    public static func names(in directory: FilePath) throws(FileAccessError) -> [String] {
        guard let handle = opendir(directory.string) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw .io(operation: "list", path: directory.string, errno: errno)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = Self.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The name in a `readdir` entry.
    static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
    }

    /// The names in `directory` (not `.` or `..`) with each one's file type
    /// (`S_IFDIR`, `S_IFLNK`, …, as in `st_mode`), never following a link;
    /// empty when the directory does not exist.
    ///
    /// The type comes from the directory entry itself (`d_type`) where the
    /// file system records it (ext4, tmpfs, xfs, btrfs), so a queue root of
    /// 10,000 bottles is sorted into directories and links without a
    /// `stat` per name; where it is unknown, one `fstatat` relative to the
    /// open directory answers.
    public static func entries(in directory: FilePath) throws(FileAccessError) -> [(name: String, type: mode_t)] {
        guard let handle = opendir(directory.string) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw .io(operation: "list", path: directory.string, errno: errno)
        }
        defer { closedir(handle) }
        let descriptor = dirfd(handle)
        var entries: [(name: String, type: mode_t)] = []
        while let entry = readdir(handle) {
            let name = Self.name(of: entry)
            guard name != "." && name != ".." else { continue }
            var type: mode_t
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): type = S_IFDIR
            case Int32(DT_LNK): type = S_IFLNK
            case Int32(DT_REG): type = S_IFREG
            case Int32(DT_UNKNOWN):
                var info = stat()
                guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                type = info.st_mode & S_IFMT
            default: type = S_IFIFO  // a FIFO, socket or device: none of them holds a queue
            }
            entries.append((name, type))
        }
        return entries
    }
}
