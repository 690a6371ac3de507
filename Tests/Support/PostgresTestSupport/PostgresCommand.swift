import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs PostgreSQL's programs for the test server: as the `postgres` user
/// when the tests run as root (initdb and postgres refuse to run as root),
/// with a deadline, output collected.
enum PostgresCommand {
    /// What a finished command left.
    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Whether commands are run through `runuser -u postgres --`.
    static var runsAsPostgresUser: Bool { geteuid() == 0 }

    /// The argument vector that runs `arguments` as the server's owner.
    static func asOwner(_ arguments: [String]) -> [String] {
        runsAsPostgresUser ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
    }

    /// Runs `arguments` to completion (or kills it at `timeout`).
    static func run(_ arguments: [String], timeout: Duration = .seconds(60), input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        environment.removeValue(forKey: "PGPASSWORD")
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes while it runs, so a chatty command never blocks on a full pipe.
        let collected = OutputCollector()
        let readers = [(out, false), (err, true)].map { pipe, isError in
            Thread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.store(data, isError: isError)
            }
        }
        readers.forEach { $0.start() }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw PostgresServerError("\(arguments.joined(separator: " ")) took longer than \(timeout); killed")
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        collected.waitForBoth()
        return Output(
            status: process.terminationStatus, standardOutput: collected.text(isError: false),
            standardError: collected.text(isError: true))
    }
}

/// The two output pipes' bytes, gathered by two threads.
private final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var output = Data()
    private var error = Data()
    private var finished = 0

    func store(_ data: Data, isError: Bool) {
        condition.lock()
        if isError { error = data } else { output = data }
        finished += 1
        condition.broadcast()
        condition.unlock()
    }

    func waitForBoth() {
        condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while finished < 2, condition.wait(until: deadline) {}
        condition.unlock()
    }

    func text(isError: Bool) -> String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: isError ? error : output, as: UTF8.self)
    }
}

/// A test server failure: what went wrong, with the server's log tail when there is one.
public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
