import Foundation
import Queue
import SystemPackage

/// Queue changes for every open page: one inotify watch over the queue root
/// (``QueueWatch``), fanned out to each page's server-sent event stream.
///
/// A page gets `event: queue` when any bottle's queue changes and re-fetches
/// the list; a comment every 15 s keeps proxies from closing the stream.
/// The same changes feed the notifier, so the web console announces new
/// proposals like the terminal console does.
public actor QueueBroadcast {
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    /// Set by ``finishAll()``: a page that asks afterwards gets a stream that has ended.
    private var finished = false

    public init() {}

    /// A stream of SSE messages for one page, ended when the page goes.
    public func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(16))
        guard !finished else {
            continuation.finish()
            return stream
        }
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.remove(id) } }
        continuation.yield("retry: 1000\n\n")
        return stream
    }

    /// Tells every page that something changed.
    public func changed() {
        for continuation in subscribers.values { continuation.yield("event: queue\ndata: changed\n\n") }
    }

    /// Sends a keep-alive comment to every page.
    public func keepAlive() {
        for continuation in subscribers.values { continuation.yield(": keep-alive\n\n") }
    }

    /// Ends every stream, and every later one at once (at shutdown).
    public func finishAll() {
        finished = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }

    /// The number of open pages.
    public var count: Int { subscribers.count }

    private func remove(_ id: UUID) {
        subscribers[id] = nil
    }
}
