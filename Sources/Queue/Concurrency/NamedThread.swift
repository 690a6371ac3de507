import CLinuxCalls

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A thread of the project's own, with a name `top -H`, `ps -L` and a
/// debugger show: the one place a thread is started in `Queue` and `Sidecar`
/// (``BlockingWork``, the queue watcher, the stdio transport's stdin reader).
///
/// POSIX threads directly rather than Foundation's `Thread`: the sidecar is
/// built without Foundation (docs/architecture.md, "The sidecar without
/// Foundation"), and a named detached thread is all it ever asked of
/// `Thread`. Linux keeps at most 15 bytes of a thread's name; the longer
/// part is dropped (`CLinuxCalls`, as glibc declares the call only under
/// `_GNU_SOURCE`).
public enum NamedThread {
    /// Starts `body` on a new detached thread named `name`; returns at once.
    /// A process that cannot start a thread (out of memory, or at its
    /// thread limit) cannot do the work it was asked: it stops, naming the
    /// thread and the error.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let work = Unmanaged.passRetained(Work(name: name, body: body)).toOpaque()
        #if canImport(Glibc)
            var thread = pthread_t()
        #else
            var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { raw in
            #if canImport(Glibc)
                let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
                _ = supervise_name_this_thread(work.name)
            #else
                let work = Unmanaged<Work>.fromOpaque(raw).takeRetainedValue()
                _ = pthread_setname_np(work.name)
            #endif
            work.body()
            return nil
        }, work)
        guard result == 0 else {
            Unmanaged<Work>.fromOpaque(work).release()
            fatalError("could not start the thread \(name): \(String(cString: strerror(result)))")
        }
        #if canImport(Glibc)
            pthread_detach(thread)
        #else
            pthread_detach(thread!)
        #endif
    }

    /// Sleeps the calling thread (never a task's: a task sleeps with
    /// `Task.sleep`) for `duration`, waking early only if a signal interrupts it.
    public static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1, errno == EINTR { request = remaining }
    }

    /// What a new thread runs, handed to it through `pthread_create`'s one pointer.
    private final class Work {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
