import Foundation

/// A desktop notification through `notify-send` (libnotify), when it is on
/// the PATH: the operator at a laptop sees a proposal arrive without looking
/// at a terminal. Run with an argument vector, never a shell; the text is
/// already escaped for terminals, and `notify-send` is told it is plain text.
enum DesktopNotification {
    /// `notify-send`'s path, or `nil` when it is not installed.
    static func program(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/notify-send"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func send(_ notification: ProposalNotification, timeout: Duration) async throws {
        guard let program = program() else { throw NotificationFailure.desktop("notify-send is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        let urgency = notification.highestRisk == .critical ? "critical" : "normal"
        // Markup off: a justification's "<b>" stays text.
        let body = notification.lines.joined(separator: "\n")
            .replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        process.arguments = ["--app-name=bottle-supervise", "--urgency=\(urgency)", "--", notification.title, body]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            throw NotificationFailure.desktop("notify-send did not finish in time")
        }
        guard process.terminationStatus == 0 else {
            throw NotificationFailure.desktop("notify-send exited with status \(process.terminationStatus)")
        }
    }
}
