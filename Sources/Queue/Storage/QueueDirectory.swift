import FileAccess
import FoundationEssentials
import SystemPackage

/// A bottle's queue directory, opened without following links: a
/// ``DirectoryDescriptor`` (why every name there is read the way it is, is
/// written there) whose reads are capped at the largest queue file and whose
/// refusals are ``QueueError``s, as the queue's callers expect ("malformed
/// queue file PATH: a FIFO, not a regular file; not read").
///
/// Everything in a bottle's queue directory is written by the sidecar, which
/// lives in the agent's network and must be assumed compromised: this is the
/// one way the host opens, lists and reads it.
public final class QueueDirectory: Sendable {

    /// The largest queue file read: a 1 MiB proposed (or final) file, each
    /// byte at most doubled by JSON's escaping of quotes and backslashes,
    /// plus a bounded justification and the other fields.
    public static let maximumFileSize = 2 * ProposedFileValidator.maximumSize + 2 * Proposal.maximumJustificationSize
        + 16_384

    /// The open directory, for ``AtomicFile``'s `named:in:` variants and `*at` calls.
    public let directory: DirectoryDescriptor

    private init(_ directory: DirectoryDescriptor) {
        self.directory = directory
    }

    /// The open directory's descriptor.
    public var descriptor: Int32 { directory.descriptor }
    /// Its path, for messages only: never opened again.
    public var path: FilePath { directory.path }

    /// Opens the queue directory at `path`; `nil` when nothing is there.
    /// - Throws: ``QueueError/malformedFile(path:reason:)`` when the last
    ///   component is a symbolic link; a file that is not a directory is `nil`.
    public static func open(_ path: FilePath) throws(QueueError) -> QueueDirectory? {
        try QueueError.mapping { () throws(FileAccessError) in try DirectoryDescriptor.open(path) }
            .map(QueueDirectory.init)
    }

    /// Opens the subdirectory `name` (`archive/`); `nil` when it does not exist.
    public func subdirectory(_ name: String) throws(QueueError) -> QueueDirectory? {
        try QueueError.mapping { () throws(FileAccessError) in try directory.subdirectory(name) }
            .map(QueueDirectory.init)
    }

    /// The names in the directory (not `.` or `..`).
    public func names() throws(QueueError) -> [String] {
        try QueueError.mapping { () throws(FileAccessError) in try directory.names() }
    }

    /// Whether something (of any type, a link included) has the name `name`.
    public func contains(_ name: String) -> Bool { directory.contains(name) }

    /// Whether `name` is a regular file (not a link, FIFO, device or directory).
    public func containsRegularFile(_ name: String) -> Bool { directory.containsRegularFile(name) }

    /// The identity of the regular file `name` (``FileIdentity``); `nil` for anything else.
    public func identity(of name: String) -> FileIdentity? { directory.identity(of: name) }

    /// The contents of the regular file `name`, or `nil` when there is none.
    /// - Throws: ``QueueError/malformedFile(path:reason:)`` for a link, a
    ///   FIFO, a device, a directory or a file over `limit` bytes — before
    ///   reading a byte of it.
    public func read(_ name: String, limit: Int = QueueDirectory.maximumFileSize) throws(QueueError) -> Data? {
        try QueueError.mapping { () throws(FileAccessError) in try directory.read(name, limit: limit) }
    }

    /// ``read(_:limit:)``, and with `pinning`, the identity that names
    /// exactly the bytes returned (``DirectoryDescriptor/readVersion(_:limit:pinning:)``).
    public func readVersion(_ name: String, limit: Int = QueueDirectory.maximumFileSize, pinning: Bool = false)
        throws(QueueError) -> (data: Data, identity: FileIdentity?)?
    {
        try QueueError.mapping { () throws(FileAccessError) in
            try directory.readVersion(name, limit: limit, pinning: pinning)
        }
    }

    /// Whether the listing cache may trust change times here
    /// (``DirectoryDescriptor/keepsChangeTimes``).
    public var keepsChangeTimes: Bool { directory.keepsChangeTimes }
}
