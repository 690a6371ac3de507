import Queue

/// Why a command failed, with the exit status PRODUCT.md fixes for it.
///
/// The one way a command fails once its arguments are parsed: `run()` throws
/// a `Failure`, and ``CommandLineMain/run(_:prepare:)`` prints its message on standard
/// error as `bottle-supervise <command>: <message>` and exits with its
/// status. Bad input found while parsing (`validate()`, values that do not
/// parse) is ArgumentParser's `ValidationError` instead, which prints the
/// command's usage and exits 2.
public enum Failure: Error, Equatable {
    /// The name messages start with, whichever executable prints them.
    public static let program = "bottle-supervise"

    /// It did not work (1): I/O, a refused apply, a missing queue root.
    case failed(String)
    /// A usage error found only while running (2), such as `console` without a terminal.
    case usage(String)
    /// No such proposal (3), or nothing to roll back.
    case notFound(String)
    /// The proposal is already decided, withdrawn or expired (4).
    case alreadyDecided(String)
    /// The proposal file is not the one reviewed (5): nothing was decided or written.
    case changed(String)

    /// The exit status.
    public var status: Int32 {
        switch self {
        case .failed: 1
        case .usage: 2
        case .notFound: 3
        case .alreadyDecided: 4
        case .changed: 5
        }
    }

    /// What went wrong and what to do, for standard error.
    public var message: String {
        switch self {
        case .failed(let text), .usage(let text), .notFound(let text), .alreadyDecided(let text), .changed(let text):
            text
        }
    }

    /// Prints the message for `command` on standard error. Messages quote queue
    /// values: they are escaped (again, which is harmless: escapes contain no
    /// control characters).
    public func report(command: String) {
        StandardError.write("\(Self.program) \(command): \(Escaped(message, keepLayout: true))\n")
    }
}
