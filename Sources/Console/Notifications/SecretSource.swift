import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a notification secret (a token, a Slack webhook URL, an ntfy
/// topic) comes from: a file only its owner can read, or an environment
/// variable — never the settings file itself, which tends to be copied,
/// committed and shown.
enum SecretSource: Sendable, Equatable {
    /// A file of mode 0600 (or stricter) owned by the user running the host tools.
    case file(String)
    /// An environment variable of the host process.
    case environment(String)

    /// The secret, surrounding whitespace removed.
    /// - Throws: ``NotifySettingsError`` saying what to fix: a missing
    ///   variable, a file others can read, a link, an empty secret.
    func read(environment: [String: String]) throws(NotifySettingsError) -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name]?.trimmed, !value.isEmpty else {
                throw .invalid("the environment variable \(name) is not set or empty")
            }
            return value
        case .file(let path):
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                throw .invalid("cannot open the secret file \(path): \(String(cString: strerror(errno))) (a symbolic link is refused)")
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw .invalid("the secret file \(path) is not a regular file")
            }
            guard info.st_uid == getuid() else {
                throw .invalid("the secret file \(path) belongs to another user; it must be yours")
            }
            guard info.st_mode & 0o077 == 0 else {
                throw .invalid(
                    "the secret file \(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)")
            }
            guard info.st_size <= 64 * 1024 else { throw .invalid("the secret file \(path) is larger than 64 KiB") }
            var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw .invalid("cannot read the secret file \(path)") }
            guard let value = String(validating: bytes.prefix(count), as: UTF8.self)?.trimmed, !value.isEmpty else {
                throw .invalid("the secret file \(path) is empty or not UTF-8 text")
            }
            return value
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
