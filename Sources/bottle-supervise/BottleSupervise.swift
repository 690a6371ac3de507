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
            Serve.self, ConsoleCommand.self, List.self, Show.self, Approve.self, Modify.self, Reject.self, ApplyCommand.self,
            Log.self, Rollback.self, GrantsCommand.self, Revoke.self, Extend.self, WatchCommand.self, NotifyCommand.self,
            WebCommand.self, OperatorsCommand.self, RelayCommand.self, Demo.self, Health.self, Ask.self, PolicyCommand.self,
        ]
    )

    /// Runs the command line with PRODUCT.md's exit statuses, in one place.
    ///
    /// Bad input (a value that does not parse, a check in `validate()`) is a
    /// usage error, 2 (ArgumentParser's own default is 64), printed with the
    /// usage of the subcommand that was given; so is no subcommand at all. Once a command runs it fails
    /// only by throwing a ``Failure``, printed as `bottle-supervise <command>:
    /// <message>` with its status; anything else it throws is a failure (1).
    /// ArgumentParser's message for a usage error, in the house style: `bottle-supervise <command>:
    /// <message>` (not `Error: …`), escaped (it may quote the bad value), then the usage.
    static func usageMessage(for error: any Error) -> String {
        let text = fullMessage(for: error)
        guard text.hasPrefix("Error: ") else { return Escaped(text, keepLayout: true).description }
        let given = CommandLine.arguments.dropFirst().first
        let command = configuration.subcommands.first { $0._commandName == given }.map { " " + $0._commandName } ?? ""
        return "bottle-supervise\(command): " + Escaped(String(text.dropFirst("Error: ".count)), keepLayout: true).description
    }

    static func main() async {
        do {
            var command = try parseAsRoot()
            let name = type(of: command)._commandName
            if command is BottleSupervise {
                // No subcommand: a usage error (a script that forgot its command must not read success).
                FileHandle.standardError.write(
                    Data((helpMessage() + "\nbottle-supervise: give a command (see above)\n").utf8))
                Foundation.exit(2)
            }
            // Every host command judges decision files; the sidecar (`serve`) has no key and never does.
            ForgedDecisionAudit.install(tellOperator: !(command is ConsoleCommand))
            do {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch let failure as Failure {
                failure.report(command: name)
                Foundation.exit(failure.status)
            } catch let error where exitCode(for: error) == .failure && !(error is ExitCode) {
                // Not foreseen by the command: still a failure, said the same way.
                Failure.failed("\(error)").report(command: name)
                Foundation.exit(1)
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                // The error carries the parsed subcommand: its usage is the one shown.
                FileHandle.standardError.write(Data((usageMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)  // --help and --version (status 0), ExitCode
        }
    }
}
