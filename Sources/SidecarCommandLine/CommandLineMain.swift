import ArgumentParser
import Queue

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a command line with PRODUCT.md's exit statuses, in one place, for
/// both executables: `bottle-supervise` (every command) and
/// `bottle-supervise-sidecar` (`serve` and `health` only, without Foundation).
///
/// Bad input (a value that does not parse, a check in `validate()`) is a
/// usage error, 2 (ArgumentParser's own default is 64), printed with the
/// usage of the subcommand that was given; so is no subcommand at all. Once a
/// command runs it fails only by throwing a ``Failure``, printed as
/// `bottle-supervise <command>: <message>` with its status; anything else it
/// throws is a failure (1). Messages name the product, `bottle-supervise`,
/// whichever executable prints them, so a script or a log search reads the
/// lean sidecar's output exactly as the full binary's.
public enum CommandLineMain {
    /// Parses the arguments with `root`, runs the command, exits.
    /// - Parameter prepare: called with the parsed command just before it runs.
    public static func run<Root: ParsableCommand>(
        _ root: Root.Type, prepare: @Sendable (any ParsableCommand) -> Void = { _ in }
    ) async -> Never {
        do {
            var command = try root.parseAsRoot()
            let name = type(of: command)._commandName
            if command is Root {
                // No subcommand: a usage error (a script that forgot its command must not read success).
                StandardError.write(root.helpMessage() + "\n\(Failure.program): give a command (see above)\n")
                exit(2)
            }
            prepare(command)
            do {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch let failure as Failure {
                failure.report(command: name)
                exit(failure.status)
            } catch let error where root.exitCode(for: error) == .failure && !(error is ExitCode) {
                // Not foreseen by the command: still a failure, said the same way.
                Failure.failed("\(error)").report(command: name)
                exit(1)
            }
            exit(0)
        } catch {
            if root.exitCode(for: error) == .validationFailure {
                // The error carries the parsed subcommand: its usage is the one shown.
                StandardError.write(usageMessage(for: error, root: root) + "\n")
                exit(2)
            }
            root.exit(withError: error)  // --help and --version (status 0), ExitCode
        }
    }

    /// ArgumentParser's message for a usage error, in the house style: `bottle-supervise <command>:
    /// <message>` (not `Error: …`), escaped (it may quote the bad value), then the usage.
    public static func usageMessage<Root: ParsableCommand>(for error: any Error, root: Root.Type) -> String {
        let text = root.fullMessage(for: error)
        guard text.hasPrefix("Error: ") else { return Escaped(text, keepLayout: true).description }
        let given = CommandLine.arguments.dropFirst().first
        let command =
            root.configuration.subcommands.first { $0._commandName == given }.map { " " + $0._commandName } ?? ""
        return "\(Failure.program)\(command): "
            + Escaped(String(text.dropFirst("Error: ".count)), keepLayout: true).description
    }
}

/// Standard error, written with write(2): a message goes out whole, at once,
/// without Foundation's `FileHandle`.
public enum StandardError {
    /// Writes `text` (UTF-8) to standard error; a short write is continued,
    /// a failed one dropped (there is nowhere else to say it).
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if canImport(Glibc)
                    let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                #else
                    let written = Darwin.write(2, raw.baseAddress! + offset, raw.count - offset)
                #endif
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
