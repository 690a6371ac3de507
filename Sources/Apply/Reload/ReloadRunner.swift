import Foundation
import Queue

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one reload command did.
public struct ReloadRun: Sendable, Equatable {
    /// The argument vector that ran.
    public var command: [String]
    /// The exit status, when the program exited (not killed, not unstartable).
    public var exitStatus: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// Whether it ran past its timeout and its process group was killed.
    public var timedOut: Bool
    /// Why it could not be started (`nil`: it started).
    public var startFailure: String?
    /// The last lines of its standard output and error, interleaved.
    public var outputTail: String
    /// How long it ran.
    public var duration: Duration
    /// Its standard output on its own, when the caller asked for it
    /// (`standardOutputLimit`); otherwise empty, the output being in ``outputTail``.
    public var standardOutput: String = ""
    /// Whether the standard output was longer than the limit (what was kept is its start).
    public var standardOutputOverflowed = false

    /// Whether the command did its job: started, exited 0, in time.
    public var succeeded: Bool { exitStatus == 0 && !timedOut && startFailure == nil }

    /// Why it failed, in one line; `nil` when it succeeded. An exit status
    /// alone rarely says why (`podman exited with status 125`): the last
    /// non-empty line of the output usually does, so it follows, escaped and
    /// clipped, since it ends up in the summary the operator and the agent read.
    public var failureReason: String? {
        let program = command.first ?? ""
        let reason: String
        if let startFailure {
            return "could not start \(program): \(startFailure)"
        } else if timedOut {
            reason = "\(program) timed out after \(ReloadRun.seconds(duration)) and was killed"
        } else if let signal {
            reason = "\(program) was killed by signal \(signal)"
        } else if let exitStatus, exitStatus != 0 {
            reason = "\(program) exited with status \(exitStatus)"
        } else {
            return nil
        }
        return lastOutputLine.map { "\(reason): \($0)" } ?? reason
    }

    /// The output's last line that is not blank, as ``OutputTail/summaryLine(_:)`` shows it.
    public var lastOutputLine: String? {
        outputTail.split(whereSeparator: \.isNewline).last {
            !$0.allSatisfy(\.isWhitespace)
        }.map { OutputTail.summaryLine($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}

/// Runs a reload command: no shell, its own process group, a timeout that
/// kills the whole group.
///
/// The program is found through `PATH` (`posix_spawnp`); standard input is
/// `/dev/null`; standard output and error go to one pipe whose tail is
/// kept. The child inherits the operator's environment and nothing else —
/// in particular nothing a bottle's agent wrote.
public enum ReloadRunner {
    /// Runs `argv` and waits for it, at most `timeout`.
    /// - Parameter standardOutputLimit: when given, standard output is kept
    ///   apart, whole up to this many bytes, in ``ReloadRun/standardOutput``
    ///   (for commands whose output is data, such as `inspect`); standard
    ///   error alone then makes the tail.
    public static func run(_ argv: [String], timeout: Duration, standardOutputLimit: Int? = nil) async -> ReloadRun {
        await BlockingWork.run("reload command") {
            runBlocking(argv, timeout: timeout, standardOutputLimit: standardOutputLimit)
        }
    }

    /// How long a killed group gets between SIGTERM and SIGKILL.
    static let killGrace: Duration = .seconds(2)
    /// How long output is still read after the program exited (a background
    /// child may keep the pipe open).
    static let drainGrace: Duration = .milliseconds(300)

    static func runBlocking(_ argv: [String], timeout: Duration, standardOutputLimit: Int? = nil) -> ReloadRun {
        let clock = ContinuousClock()
        let start = clock.now
        var result = ReloadRun(
            command: argv, exitStatus: nil, signal: nil, timedOut: false, startFailure: nil, outputTail: "",
            duration: .zero)
        guard !argv.isEmpty else {
            result.startFailure = "empty command"
            return result
        }
        var fds: [Int32] = [-1, -1]
        // pipe2(O_CLOEXEC) is not visible from Swift's Glibc module; set close-on-exec right after.
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
            result.startFailure = String(cString: strerror(errno))
            return result
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        // The data pipe, when standard output is kept apart.
        var dataFDs: [Int32] = [-1, -1]
        if standardOutputLimit != nil {
            guard pipe(&dataFDs) == 0, fcntl(dataFDs[0], F_SETFD, FD_CLOEXEC) == 0,
                fcntl(dataFDs[1], F_SETFD, FD_CLOEXEC) == 0
            else {
                result.startFailure = String(cString: strerror(errno))
                close(writeEnd)
                for fd in dataFDs where fd >= 0 { close(fd) }
                return result
            }
        }
        defer { if dataFDs[0] >= 0 { close(dataFDs[0]) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, dataFDs[1] >= 0 ? dataFDs[1] : writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let code = posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, environ)
        close(writeEnd)
        if dataFDs[1] >= 0 { close(dataFDs[1]) }
        guard code == 0 else {
            result.startFailure = String(cString: strerror(code))
            result.duration = clock.now - start
            return result
        }

        var tail = OutputTail()
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        var status: Int32 = 0
        var exited = false
        var pipeOpen = true
        var dataOpen = dataFDs[0] >= 0
        var data: [UInt8] = []
        var termSentAt: ContinuousClock.Instant?
        var exitedAt: ContinuousClock.Instant?
        while true {
            if pipeOpen || dataOpen {
                var descriptors: [pollfd] = []
                if pipeOpen { descriptors.append(pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)) }
                if dataOpen { descriptors.append(pollfd(fd: dataFDs[0], events: Int16(POLLIN), revents: 0)) }
                if poll(&descriptors, nfds_t(descriptors.count), 20) > 0 {
                    for descriptor in descriptors where descriptor.revents != 0 {
                        let count = chunk.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                        if count > 0, descriptor.fd == readEnd {
                            chunk.withUnsafeBytes { tail.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                        } else if count > 0 {
                            let room = max(0, (standardOutputLimit ?? 0) - data.count)
                            if count > room { result.standardOutputOverflowed = true }
                            data.append(contentsOf: chunk[0..<min(count, room)])
                        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                            if descriptor.fd == readEnd { pipeOpen = false } else { dataOpen = false }
                        }
                    }
                }
            } else if !exited {
                usleep(10_000)
            }
            if !exited, waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                exitedAt = clock.now
            }
            let now = clock.now
            if exited {
                if (!pipeOpen && !dataOpen) || now - exitedAt! > drainGrace { break }
                continue
            }
            if now - start > timeout {
                if let sent = termSentAt {
                    if now - sent > killGrace { kill(-pid, SIGKILL) }
                } else {
                    result.timedOut = true
                    termSentAt = now
                    kill(-pid, SIGTERM)
                }
            }
        }
        if result.timedOut { kill(-pid, SIGKILL) }  // anything left of the group
        result.duration = clock.now - start
        result.outputTail = tail.text
        result.standardOutput = String(decoding: data, as: UTF8.self)
        if (status & 0x7F) == 0 {
            result.exitStatus = (status >> 8) & 0xFF
        } else {
            result.signal = status & 0x7F
        }
        return result
    }
}
