// Linux only: `DirectoryDescriptor.names()` lists with `getdents64(2)` here
// (the reason is `DirectoryEntries`' own comment below) and keeps `readdir`
// on Darwin, which has no `getdents64`.
#if os(Linux)
    import CLinuxCalls
    import Glibc

    /// The entries of an open directory, read with `getdents64(2)` straight
    /// from its descriptor.
    ///
    /// `readdir` needs a `DIR` of its own, and `fdopendir` takes the
    /// descriptor it is given, so listing a directory that stays open (a
    /// bottle's queue, whose files are opened relative to it afterwards)
    /// costs a `dup`, an `fstat`, two `fcntl`s and a `close` besides the
    /// reads. `list` lists two directories per bottle; at a thousand bottles
    /// those are 10,000 system calls of the command's 60,000.
    enum DirectoryEntries {
        /// Calls `body` with each entry's name, `.` and `..` included, from
        /// the start of the directory.
        /// - Returns: `0`, or the `errno` of the failed call.
        static func forEach(in descriptor: Int32, _ body: (String) -> Void) -> Int32 {
            guard lseek(descriptor, 0, SEEK_SET) == 0 else { return errno }
            let capacity = 16_384
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            defer { buffer.deallocate() }
            while true {
                let count = supervise_getdents64(descriptor, buffer, capacity)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if count == 0 { return 0 }
                var offset = 0
                while offset < count {
                    let entry = buffer + offset
                    let length = Int(entry.loadUnaligned(fromByteOffset: supervise_dirent64_reclen_offset, as: UInt16.self))
                    let name = String(cString: (entry + supervise_dirent64_name_offset).assumingMemoryBound(to: CChar.self))
                    body(name)
                    guard length > 0 else { return EIO }
                    offset += length
                }
            }
        }
    }
#endif
