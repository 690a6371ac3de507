import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The operator's terminal, taken over for the console and always given back.
///
/// Full-screen mode is raw input (no echo, no line buffering, no signals from
/// keys: Ctrl-C arrives as a key and quits cleanly), the alternate screen
/// (so the shell's scrollback is untouched) and a hidden cursor. Giving it
/// back restores the saved termios and leaves the alternate screen. That
/// must happen on every way out — quit, Ctrl-C, SIGTERM, SIGHUP, a crash —
/// so the saved state lives in process globals that the signal handlers,
/// which may run at any instant, can reach with async-signal-safe calls only.
///
/// Hand-written on termios and ANSI sequences: no curses binding is among the
/// packages this project may use, and the console needs only a handful of
/// sequences (alternate screen, cursor, colour, clear).
public final class Terminal: @unchecked Sendable {
    // @unchecked: every member is either immutable or touched only from the
    // console's single event loop; the signal-reachable state is the globals below.

    /// Rows and columns.
    public struct Size: Equatable, Sendable {
        public var rows: Int
        public var columns: Int
    }

    private let input: Int32
    private let output: Int32
    private var active = false

    /// A terminal over standard input and output.
    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
    }

    /// Whether both ends are terminals.
    public var isInteractive: Bool { isatty(input) == 1 && isatty(output) == 1 }

    /// The current window size (80×24 when the terminal does not say).
    public var size: Size {
        var window = winsize()
        if ioctl(output, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 {
            return Size(rows: Int(window.ws_row), columns: Int(window.ws_col))
        }
        return Size(rows: 24, columns: 80)
    }

    /// Enters raw mode and the alternate screen, and arms the restoring signal handlers.
    public func enter() throws {
        guard tcgetattr(input, &savedTermios) == 0 else {
            throw TerminalError.notATerminal
        }
        savedInput = input
        savedOutput = output
        var raw = savedTermios
        raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        raw.c_oflag &= ~tcflag_t(OPOST)
        raw.c_cflag |= tcflag_t(CS8)
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        guard tcsetattr(input, TCSAFLUSH, &raw) == 0 else { throw TerminalError.notATerminal }
        terminalTaken = 1
        installRestoringHandlers()
        write(ANSI.enterAlternateScreen + ANSI.hideCursor + ANSI.clearScreen)
        active = true
    }

    /// Leaves the alternate screen and restores the saved terminal state. Safe to call twice.
    public func leave() {
        guard active else { return }
        active = false
        write(ANSI.reset + ANSI.showCursor + ANSI.leaveAlternateScreen)
        tcsetattr(input, TCSAFLUSH, &savedTermios)
        terminalTaken = 0
    }

    /// Writes `text` whole (retrying short writes).
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Glibc.write(output, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }
}

/// Why the console cannot take the terminal.
public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal

    public var description: String {
        "the console needs a terminal on standard input and output (use `list`, `show`, `approve`, `reject` in scripts)"
    }
}

// MARK: - Restoring from signal handlers

nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var savedInput: Int32 = STDIN_FILENO
nonisolated(unsafe) private var savedOutput: Int32 = STDOUT_FILENO
nonisolated(unsafe) private var terminalTaken: sig_atomic_t = 0

/// The bytes that give the screen back: reset attributes, show the cursor, leave the alternate screen.
private let restoreSequence: [UInt8] = Array((ANSI.reset + ANSI.showCursor + ANSI.leaveAlternateScreen).utf8)

private func restoreTerminalFromSignal(_ signal: Int32) {
    if terminalTaken != 0 {
        terminalTaken = 0
        restoreSequence.withUnsafeBytes { _ = Glibc.write(savedOutput, $0.baseAddress, $0.count) }
        tcsetattr(savedInput, TCSANOW, &savedTermios)
    }
    // Re-raise with the default action, so the exit status says which signal it was.
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}

private func installRestoringHandlers() {
    for signal in [SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { restoreTerminalFromSignal($0) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
        sigaction(signal, &action, nil)
    }
}

/// The few ANSI sequences the console uses.
enum ANSI {
    static let esc = "\u{1B}["
    static let enterAlternateScreen = "\u{1B}[?1049h"
    static let leaveAlternateScreen = "\u{1B}[?1049l"
    static let hideCursor = "\u{1B}[?25l"
    static let showCursor = "\u{1B}[?25h"
    static let clearScreen = "\u{1B}[2J"
    static let home = "\u{1B}[H"
    static let clearLine = "\u{1B}[K"
    static let reset = "\u{1B}[0m"
    static let bold = "\u{1B}[1m"
    static let dim = "\u{1B}[2m"
    static let reverse = "\u{1B}[7m"
    static let red = "\u{1B}[31m"
    static let green = "\u{1B}[32m"
    static let yellow = "\u{1B}[33m"
    static let cyan = "\u{1B}[36m"
    static let bell = "\u{07}"

    static func moveTo(row: Int, column: Int = 1) -> String { "\u{1B}[\(row);\(column)H" }
}
