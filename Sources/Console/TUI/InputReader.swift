import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Reads keys from the terminal on its own thread and hands them to the event loop.
///
/// It can be paused while the operator's editor owns the terminal: paused,
/// it stops reading (the editor gets every keystroke) but keeps polling, so
/// it resumes within 50 ms.
final class InputReader: Sendable {
    private let state = Mutex((paused: false, stopped: false))

    init(input: Int32 = STDIN_FILENO, onKeys: @escaping @Sendable ([Key]) -> Void) {
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let (paused, stopped) = self.state.withLock { ($0.paused, $0.stopped) }
                if stopped { return }
                var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
                guard !paused, poll(&descriptor, 1, 50) > 0 else {
                    if paused { usleep(50_000) }
                    continue
                }
                if self.state.withLock({ $0.paused || $0.stopped }) { continue }
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0, errno == EINTR || errno == EAGAIN { continue }
                    // The terminal went away: treat it as Ctrl-C so the console exits cleanly.
                    onKeys([.control("c")])
                    return
                }
                pending += buffer[0..<count]
                let keys = Key.decode(&pending)
                if !keys.isEmpty { onKeys(keys) }
            }
        }
        thread.name = "console-input"
        thread.start()
    }

    func pause() { state.withLock { $0.paused = true } }
    func resume() { state.withLock { $0.paused = false } }
    func stop() { state.withLock { $0.stopped = true } }
}
