import Foundation

/// The `bottle-supervise` binary under test: `$BOTTLE_SUPERVISE_BIN`, else the
/// one SwiftPM built beside the test bundle.
enum BuiltBinary {
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["BOTTLE_SUPERVISE_BIN"] { return path }
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        // The runner may be the .xctest bundle's inner executable.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("bottle-supervise").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "bottle-supervise"
    }
}

/// A scratch directory for one test, removed afterwards.
final class Scratch: Sendable {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` at `relative` (creating directories), returning the absolute path.
    @discardableResult
    func write(_ text: String, at relative: String, executable: Bool = false) -> String {
        let file = "\(path)/\(relative)"
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: file))
        if executable { chmod(file, 0o755) }
        return file
    }
}
