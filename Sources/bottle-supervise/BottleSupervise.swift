import ArgumentParser
import Foundation
import Queue

/// The root command: it only lists the subcommands, each in its own file.
@main
struct BottleSupervise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottle-supervise",
        abstract: "A human-in-the-loop gate for sandboxed coding agents.",
        discussion: """
            Agents in a bottle ask for a config change over MCP (the sidecar, `serve`); \
            the operator reviews, decides and applies it (`console`, or the scriptable commands).
            """,
        version: ProductVersion.current,
        subcommands: [
            Serve.self, ConsoleCommand.self, List.self, Show.self, Approve.self, Modify.self, Reject.self, Log.self,
            Rollback.self, NotifyCommand.self, WebCommand.self, Demo.self, Health.self,
        ]
    )

    /// Runs the command line, with PRODUCT.md's exit statuses: a usage error
    /// is 2 (ArgumentParser's own default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
