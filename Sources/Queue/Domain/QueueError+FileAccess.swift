import FileAccess

/// The file layer's errors as the queue's callers have always seen them.
///
/// A file in a queue directory that is a link, a FIFO or too large is, to
/// whoever reads the queue, a queue file that cannot be understood:
/// ``QueueError/malformedFile(path:reason:)`` with the file layer's reason,
/// so `list`, the console and the tests keep their words ("malformed queue
/// file PATH: a FIFO, not a regular file; not read"). An `errno` stays an
/// ``QueueError/io(operation:path:errno:)``.
extension QueueError {
    public init(_ error: FileAccessError) {
        switch error {
        case .io(let operation, let path, let code): self = .io(operation: operation, path: path, errno: code)
        default: self = .malformedFile(path: error.path, reason: error.reason)
        }
    }

    /// Runs a file-layer operation where the caller throws ``QueueError``.
    static func mapping<Result>(_ body: () throws(FileAccessError) -> Result) throws(QueueError) -> Result {
        do throws(FileAccessError) { return try body() } catch { throw QueueError(error) }
    }
}

/// The one escaper for untrusted text lives with the file layer, whose
/// messages print names a sidecar chose; the queue's (and its importers')
/// name for it stays.
public typealias Escaped = FileAccess.Escaped
