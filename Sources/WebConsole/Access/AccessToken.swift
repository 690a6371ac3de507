import Crypto
import FileAccess
import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The web console's long-lived secret: 32 random bytes, hex, in a file only
/// the operator can read (mode 0600, created exclusively on first start).
///
/// Anyone who holds it can log in (the login page asks for it), so it is
/// never printed; what `web` prints at start is a one-time login URL instead
/// (``SessionStore``). A file that others can read, a link or anything but a
/// regular file is refused with what to fix.
public enum AccessToken {
    /// Reads the token at `path`, creating it (and its folder, 0700) first if missing.
    public static func loadOrCreate(at path: FilePath) throws -> String {
        let folder = path.removingLastComponent().string
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        let created = open(path.string, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 {
            let token = SessionStore.randomHex(bytes: 32)
            let bytes = Array((token + "\n").utf8)
            let written = bytes.withUnsafeBytes { write(created, $0.baseAddress, $0.count) }
            fsync(created)
            close(created)
            guard written == bytes.count else { throw WebConsoleError.token("cannot write \(path)") }
            return token
        }
        guard errno == EEXIST else { throw WebConsoleError.token("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes: [UInt8]?
        do throws(FileAccessError) {
            bytes = try OwnerOnlyFile.read(path.string, maxBytes: 4096, owner: getuid())
        } catch {
            throw refusal(error, path: path)
        }
        // Gone between the exclusive create and the read: another start removed it.
        guard let bytes else { throw refusal(.io(operation: "open", path: path.string, errno: ENOENT), path: path) }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 32 else { throw WebConsoleError.token("\(path) holds no token; delete it to make a new one") }
        return token
    }

    /// Why the token file is refused, in the words the web console has always used.
    private static func refusal(_ error: FileAccessError, path: FilePath) -> WebConsoleError {
        switch error {
        case .symbolicLink:
            .token("cannot open \(path) (a symbolic link is refused): \(FileAccessError.text(ofErrno: ELOOP))")
        case .io(let operation, _, let code) where operation == "open":
            .token("cannot open \(path) (a symbolic link is refused): \(FileAccessError.text(ofErrno: code))")
        case .notRegularFile, .tooLarge, .io:
            .token("\(path) is not a small regular file")
        case .foreignOwner, .readableByOthers:
            .token("\(path) can be read by others or is not yours; run: chmod 600 \(ShellWord(path.string))")
        case .hardLinked, .untrustedDirectory:
            .token("\(path) \(error.reason)")
        }
    }
}

/// Why the web console cannot start or answer.
public enum WebConsoleError: Error, CustomStringConvertible {
    case token(String)
    case tls(String)

    public var description: String {
        switch self {
        case .token(let text): "access token: \(text)"
        case .tls(let text): "TLS: \(text)"
        }
    }
}
