import FileAccess
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
            let bytes: [UInt8]
            do throws(FileAccessError) {
                guard let read = try OwnerOnlyFile.read(path, maxBytes: 64 * 1024, owner: getuid()) else {
                    throw FileAccessError.io(operation: "open", path: path, errno: ENOENT)
                }
                bytes = read
            } catch {
                throw Self.refusal(error, path: path, kind: kind)
            }
            guard let value = String(validating: bytes, as: UTF8.self)?.trimmed, !value.isEmpty else {
                throw SecretSourceError("the \(kind) \(path) is empty or not UTF-8 text")
            }
            return value
        }
    }

    /// Why the file is refused, one sentence saying what to fix, in the words these messages have always had.
    private static func refusal(_ error: FileAccessError, path: String, kind: String) -> SecretSourceError {
        switch error {
        case .symbolicLink:
            SecretSourceError(
                "cannot open the \(kind) \(path): \(FileAccessError.text(ofErrno: ELOOP)) (a symbolic link is refused)")
        case .io(let operation, _, let code) where operation == "open":
            SecretSourceError(
                "cannot open the \(kind) \(path): \(FileAccessError.text(ofErrno: code)) (a symbolic link is refused)")
        case .notRegularFile:
            SecretSourceError("the \(kind) \(path) is not a regular file")
        case .foreignOwner:
            SecretSourceError("the \(kind) \(path) belongs to another user; it must be yours")
        case .readableByOthers(_, let mode):
            SecretSourceError(
                "the \(kind) \(path) can be read by others (mode \(String(mode & 0o777, radix: 8))); "
                    + "run: chmod 600 \(ShellWord(path))")
        case .hardLinked, .untrustedDirectory:
            SecretSourceError("the \(kind) \(path) \(error.reason)")
        case .tooLarge:
            SecretSourceError("the \(kind) \(path) is larger than 64 KiB")
        case .io:
            SecretSourceError("cannot read the \(kind) \(path)")
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
