import ArgumentParser
import Foundation
import Queue
import SidecarCommandLine

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
            Serve.self, ConsoleCommand.self, List.self, Show.self, Approve.self, Modify.self, Reject.self, ApplyCommand.self,
            Log.self, Rollback.self, GrantsCommand.self, Revoke.self, Extend.self, WatchCommand.self, NotifyCommand.self,
            WebCommand.self, OperatorsCommand.self, RelayCommand.self, Demo.self, Health.self, Ask.self, PolicyCommand.self,
        ]
    )

    /// Runs the command line: the exit statuses and messages are ``CommandLineMain``'s, shared with
    /// `bottle-supervise-sidecar`; forged decision files are reported as the host's commands report them.
    static func main() async {
        await CommandLineMain.run(self) { command in
            // Every host command judges decision files; the sidecar (`serve`) has no key and never does.
            ForgedDecisionAudit.install(tellOperator: !(command is ConsoleCommand))
        }
    }
}
