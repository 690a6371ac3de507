import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The replaced versions of one bottle file, so every change can be undone:
/// `<config-root>/<slug>/.history/<file>/<timestamp>-<sha8>`.
///
/// A version is saved *before* its file is replaced. A bottle that had no
/// such file is saved as `<timestamp>-absent` (empty), so undoing the first
/// approval removes the file again. Names sort by time (UTC, microseconds),
/// which is the order ``newest()`` uses.
public struct ConfigHistory: Sendable {
    /// The directory holding the versions.
    public let directory: FilePath

    /// The history in `directory`.
    public init(directory: FilePath) {
        self.directory = directory
    }

    /// One saved version.
    public struct Version: Sendable, Equatable {
        /// The version's file in the history directory.
        public let path: FilePath
        /// The file name: `<timestamp>-<sha8>` or `<timestamp>-absent`.
        public let name: String
        /// The content, or `nil` when the bottle had no file at that point.
        public let content: Data?
    }

    /// Saves `content` (`nil`: the file did not exist) as the newest version.
    /// - Returns: the version saved.
    @discardableResult
    public func save(_ content: Data?, at date: Date = Date()) throws(FileAccessError) -> Version {
        try AtomicFile.makeDirectory(directory, mode: 0o700)
        let suffix = content.map { String(SHA256Hex.of($0).prefix(8)) } ?? "absent"
        var microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        if let newest = try names().last, let newestTime = ConfigHistory.microseconds(in: newest),
            newestTime >= microseconds
        {
            microseconds = newestTime + 1  // keep the order strict even within one microsecond
        }
        let name = ConfigHistory.stamp(microseconds) + "-" + suffix
        let path = directory.appending(name)
        try AtomicFile.write(content ?? Data(), to: path, mode: 0o600)
        return Version(path: path, name: name, content: content)
    }

    /// The newest saved version, or `nil` when there is none.
    public func newest() throws(FileAccessError) -> Version? {
        guard let name = try names().last else { return nil }
        let path = directory.appending(name)
        if name.hasSuffix("-absent") { return Version(path: path, name: name, content: nil) }
        guard let data = try AtomicFile.read(path, regularOnly: true) else { return nil }
        return Version(path: path, name: name, content: data)
    }

    /// The newest saved version whose content hashes to `sha256`, or `nil`
    /// when the history no longer holds one (a rollback takes the version it
    /// restores out of the history). The name carries only the first eight
    /// hex digits, so the content is hashed before it is believed; a name
    /// that is not a regular file (a link, a FIFO) is passed over unread.
    public func version(withSHA256 sha256: String) throws(FileAccessError) -> Version? {
        let suffix = "-" + sha256.prefix(8)
        for name in try names().reversed() where name.hasSuffix(suffix) {
            let path = directory.appending(name)
            guard let data = try? AtomicFile.read(path, regularOnly: true), SHA256Hex.of(data) == sha256 else {
                continue
            }
            return Version(path: path, name: name, content: data)
        }
        return nil
    }

    /// Every version name, oldest first.
    public func names() throws(FileAccessError) -> [String] {
        let names = try DirectoryListing.names(in: directory).filter { ConfigHistory.microseconds(in: $0) != nil }
        return names.sorted()
    }

    /// Removes a version (used when the change it preceded did not stand).
    public func remove(_ version: Version) throws(FileAccessError) {
        guard unlink(version.path.string) == 0 || errno == ENOENT else {
            throw .io(operation: "remove", path: version.path.string, errno: errno)
        }
    }

    /// `20261125T034900.123456Z` for a time in microseconds since 1970.
    static func stamp(_ microseconds: Int64) -> String {
        var seconds = time_t(microseconds / 1_000_000)
        let fraction = Int(microseconds % 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
    }

    /// The time a version name carries, or `nil` if `name` is not a version.
    static func microseconds(in name: String) -> Int64? {
        let bytes = Array(name.utf8)
        guard bytes.count > 24, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "."),
            bytes[22] == UInt8(ascii: "Z"), bytes[23] == UInt8(ascii: "-")
        else { return nil }
        var parts = tm()
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            let fraction = number(16..<22)
        else { return nil }
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts)) * 1_000_000 + Int64(fraction)
    }
}
