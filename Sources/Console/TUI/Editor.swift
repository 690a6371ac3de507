import Foundation

/// The operator's editor, for modifying a proposed file.
///
/// `$VISUAL`, then `$EDITOR`, then `vi`; the variable may carry arguments
/// (`code --wait`), split on spaces. It is run directly, not through a
/// shell, on a private temp copy named like the real file so the editor's
/// syntax highlighting fits.
public enum Editor {
    /// Opens `text` in the editor and returns what the operator saved.
    public static func edit(_ text: String, fileName: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let command = (environment["VISUAL"] ?? environment["EDITOR"] ?? "vi")
            .split(separator: " ").map(String.init)
        guard let program = command.first, let executable = resolve(program) else {
            throw EditorError.notFound(command.first ?? "")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bottle-supervise-edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(fileName)
        try Data(text.utf8).write(to: file)
        let process = Process()
        process.executableURL = executable
        process.arguments = Array(command.dropFirst()) + [file.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EditorError.failed(program, process.terminationStatus) }
        return String(decoding: try Data(contentsOf: file), as: UTF8.self)
    }

    static func resolve(_ program: String) -> URL? {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }
}

/// Why the editor could not be used.
public enum EditorError: Error, CustomStringConvertible {
    case notFound(String)
    case failed(String, Int32)

    public var description: String {
        switch self {
        case .notFound(let program): "no editor \"\(program)\" on PATH; set VISUAL or EDITOR"
        case .failed(let program, let status): "\(program) exited with status \(status); nothing changed"
        }
    }
}
