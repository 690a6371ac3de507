import Foundation

/// The official MCP Python SDK (`mcp==2.3.0`) driving the sidecar through
/// `Tests/EndToEndTests/python/sidecar_client.py`.
enum PythonClient {
    /// `$SUPERVISE_TEST_PYTHON`, else the repo's `.venv`, else `/tmp/venv`.
    static let python: String? = findPython()

    private static func findPython() -> String? {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let path = environment["SUPERVISE_TEST_PYTHON"] { candidates.append(path) }
        candidates.append(repoRoot + "/.venv/bin/python")
        candidates += ["/work/main/.venv/bin/python", "/tmp/venv/bin/python"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) && hasMCP($0) }
    }

    static let installHint = """
        the end-to-end sidecar tests need Python with the official MCP client (mcp==2.3.0): run scripts/test, \
        which creates .venv with it, or python3 -m venv .venv && .venv/bin/pip install mcp==2.3.0, \
        or set SUPERVISE_TEST_PYTHON to a python that has it
        """

    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var script: String { repoRoot + "/Tests/EndToEndTests/python/sidecar_client.py" }

    private static func hasMCP(_ python: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import mcp, httpx2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// A started client run; `finish()` waits and parses its JSON line.
    final class Run: @unchecked Sendable {
        let process = Process()
        private let output = Pipe()
        private let errors = Pipe()

        init(_ arguments: [String]) throws {
            guard let python = PythonClient.python else { throw E2EFailure(PythonClient.installHint) }
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [PythonClient.script] + arguments
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// A run of `script` (in Tests/EndToEndTests/python) with another interpreter.
        init(python: String, script: String, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [PythonClient.repoRoot + "/Tests/EndToEndTests/python/" + script] + arguments
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Waits (up to `timeout`) and returns the JSON object the script printed.
        func finish(timeout: TimeInterval = 60) throws -> [String: Any] {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                process.terminate()
                throw E2EFailure("the Python client did not finish in \(timeout) s")
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard process.terminationStatus == 0,
                let line = text.split(separator: "\n").last,
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                throw E2EFailure("the Python client failed (\(process.terminationStatus)):\n\(text)\n\(errorText)")
            }
            return object
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A Python with an older `mcp` 1.x (`.venv-mcp1`, made by scripts/test), or
    /// `$SUPERVISE_TEST_PYTHON_MCP1`.
    static let pythonMCP1: String? = {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["SUPERVISE_TEST_PYTHON_MCP1"] { candidates.append(path) }
        candidates += [repoRoot + "/.venv-mcp1/bin/python", "/work/main/.venv-mcp1/bin/python"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The oldest 1.x client tested (mcp 1.9.x), in `.venv-mcp19`, which scripts/test makes.
    static let pythonMCP19: String? = {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["SUPERVISE_TEST_PYTHON_MCP19"] { candidates.append(path) }
        candidates += [repoRoot + "/.venv-mcp19/bin/python", "/work/main/.venv-mcp19/bin/python"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let installHintMCP1 = """
        the end-to-end test with an older client needs mcp 1.x in .venv-mcp1: run scripts/test, which makes it, \
        or python3 -m venv .venv-mcp1 && .venv-mcp1/bin/pip install 'mcp==1.30.0'
        """

    /// Runs a scenario to completion.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> [String: Any] {
        try Run(arguments).finish(timeout: timeout)
    }
}
