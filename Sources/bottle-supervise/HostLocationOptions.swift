import Apply
import ArgumentParser
import Foundation
import Logging
import Queue
import SidecarCommandLine
import SystemPackage

/// Where the operator's files are: `--queue-root` and `--config-root`, shared
/// by every operator command.
struct HostLocationOptions: ParsableArguments {
    @Option(
        name: .customLong("queue-root"),
        help: "One queue directory per bottle (default: $SUPERVISE_QUEUE_ROOT, then ~/.claude-bottle/queue).")
    var queueRootPath: String?

    @Option(
        name: .customLong("config-root"),
        help: "One config directory per bottle (default: $SUPERVISE_CONFIG_ROOT, then ~/.claude-bottle/bottles).")
    var configRootPath: String?

    var queueRoot: FilePath {
        EnvironmentFallback().path(queueRootPath, variable: "SUPERVISE_QUEUE_ROOT", home: ".claude-bottle/queue")
    }
    var configRoot: FilePath {
        EnvironmentFallback().path(configRootPath, variable: "SUPERVISE_CONFIG_ROOT", home: ".claude-bottle/bottles")
    }

    /// Fails (status 1) unless the queue root is a directory, saying where the
    /// path came from: a mistyped root must not read as "no proposals", nor
    /// an audit check as passed.
    ///
    /// Then makes sure the root has the host's decision key, made now if it is
    /// missing (``DecisionSeal``): every host command starts here, so the key,
    /// and with it the list of decisions from before sealing, exists from the
    /// first host command of this build on — not from the first decision read,
    /// which a sidecar could precede with a forgery that would then pass for
    /// an old decision.
    func requireQueueRoot() throws(Failure) {
        try Self.requireDirectory(queueRoot, "queue root", flag: "--queue-root", given: queueRootPath != nil)
        do throws(QueueError) { _ = try DecisionSeal.of(root: queueRoot) } catch {
            throw .failed("cannot use the host's decision key: \(error)")
        }
    }

    /// Fails (status 1) unless the config root is a directory, for every command
    /// that reads it: an approval writes into it (a mistyped one must not make
    /// files appear elsewhere); `show` diffs against it, `list` and `notify`
    /// weigh risk against it, `reject` audits its file's hash (a mistyped one
    /// would read as "no current file").
    func requireConfigRoot() throws(Failure) {
        try Self.requireDirectory(configRoot, "config root", flag: "--config-root", given: configRootPath != nil)
    }

    private static func requireDirectory(_ path: FilePath, _ what: String, flag: String, given: Bool)
        throws(Failure)
    {
        var info = stat()
        // stat, not lstat: the operator may point a root at a link of their own.
        let found = stat(path.string, &info) == 0
        if found, (info.st_mode & S_IFMT) == S_IFDIR { return }
        let variable = what == "queue root" ? "SUPERVISE_QUEUE_ROOT" : "SUPERVISE_CONFIG_ROOT"
        let origin =
            given
            ? flag
            : EnvironmentFallback().text(variable) != nil
                ? "from $\(variable)" : "the default; pass \(flag) or set \(variable)"
        throw .failed("the \(what) \(path) \(found ? "is not a directory" : "does not exist") (\(origin))")
    }
}

/// How approvals are applied: `--engine`, for the commands that apply
/// (approve, modify, rollback, console, web).
struct ApplyOptions: ParsableArguments {
    @Option(
        help: """
            Container engine for the default reload actions \
            (default: $SUPERVISE_ENGINE, then podman if installed, else docker).
            """)
    var engine: String?

    /// The engine chosen by the flag, then `$SUPERVISE_ENGINE`, then what is installed.
    var containerEngine: ContainerEngine { .resolve(flag: engine) }

    /// A mistyped --engine is a usage error now, not a failed reload after the decision is taken.
    func validate() throws {
        if let engine, ExecutableLookup.find(engine, path: ProcessInfo.processInfo.environment["PATH"]) == nil {
            throw ValidationError(
                "--engine \(Escaped(engine)) is not an executable\(engine.contains("/") ? "" : " on the PATH"); "
                    + "give podman, docker or the path of an engine's executable")
        }
    }

    /// The apply step's log for a command: errors only (an audit log that cannot
    /// be written). Its warning on a failed reload would repeat, a third time,
    /// what the command prints on standard output and standard error.
    static var commandLogger: Logger {
        var logger = Logger(label: "bottle-supervise.apply")
        logger.logLevel = .error
        return logger
    }
}
