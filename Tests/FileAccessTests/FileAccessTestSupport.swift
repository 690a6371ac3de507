import Foundation
import SystemPackage

/// A fresh temporary directory, removed when the test's scope ends.
final class TemporaryDirectory: Sendable {
    let path: FilePath

    init() {
        var bytes = Array("\(FileManager.default.temporaryDirectory.path)/file-access-test-XXXXXX".utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = FilePath(String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Writes `text` to `name` with exactly `mode` (whatever the umask); returns its path.
    @discardableResult
    func file(_ name: String, _ text: String, mode: mode_t = 0o600) -> FilePath {
        let file = path.appending(name)
        precondition(FileManager.default.createFile(atPath: file.string, contents: Data(text.utf8)))
        precondition(chmod(file.string, mode) == 0)
        return file
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path.string)
    }
}
