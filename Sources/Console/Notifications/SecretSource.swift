import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a secret (a notification token, a Slack webhook URL, an ntfy
/// topic, the fleet database's password) comes from: a file only its owner
/// can read, or an environment variable — never the settings file itself,
/// which tends to be copied, committed and shown, and never a command line,
/// which every user of the machine can read in `/proc`.
public enum SecretSource: Sendable, Equatable {
    /// A file of mode 0600 (or stricter) owned by the user running the host tools.
    case file(String)
    /// An environment variable of the host process.
    case environment(String)

    /// The secret, surrounding whitespace removed; `kind` names it in messages
    /// ("secret file", "password file").
    /// - Throws: ``SecretSourceError`` saying what to fix: a missing
    ///   variable, a file others can read, a link, an empty secret.
    public func read(environment: [String: String], kind: String = "secret file") throws(SecretSourceError) -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name]?.trimmed, !value.isEmpty else {
                throw SecretSourceError("the environment variable \(name) is not set or empty")
            }
            return value
        case .file(let path):
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                throw SecretSourceError("cannot open the \(kind) \(path): \(String(cString: strerror(errno))) (a symbolic link is refused)")
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw SecretSourceError("the \(kind) \(path) is not a regular file")
            }
            guard info.st_uid == getuid() else {
                throw SecretSourceError("the \(kind) \(path) belongs to another user; it must be yours")
            }
            guard info.st_mode & 0o077 == 0 else {
                throw SecretSourceError(
                    "the \(kind) \(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)")
            }
            guard info.st_size <= 64 * 1024 else { throw SecretSourceError("the \(kind) \(path) is larger than 64 KiB") }
            var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw SecretSourceError("cannot read the \(kind) \(path)") }
            guard let value = String(validating: bytes.prefix(count), as: UTF8.self)?.trimmed, !value.isEmpty else {
                throw SecretSourceError("the \(kind) \(path) is empty or not UTF-8 text")
            }
            return value
        }
    }
}

/// Why a secret could not be read: one sentence saying what to fix.
public struct SecretSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sentence.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
