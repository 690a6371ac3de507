import PostgresNIO

/// NOTIFY payloads of one channel, in order: a relay's wake-up
/// (``FleetSchema/decisionChannel``: the host name) or a view's
/// (``FleetSchema/changeChannel``: `host/bottle/id`).
///
/// Listening has begun when ``FleetStore/changes(channel:)`` returns, so a
/// reader that then catches up (reads what is awaiting) misses nothing in
/// between. The sequence ends with an error when the connection is lost: the
/// reader reconnects and catches up again. It holds one connection of the
/// client's pool until it is dropped or its task is cancelled.
///
/// Why the connection is watched besides the notifications: postgres-nio's
/// notification sequence does not always end when the server dies (a
/// `kill -9` of PostgreSQL left a reader waiting for the whole of its wait).
/// So the sequence also ends, with ``FleetStoreError/unavailable(_:)``,
/// when the connection's channel closes (a server killed or restarted: the
/// kernel closes the socket at once), and when a keep-alive `SELECT 1` on
/// that connection, every ``FleetStore/listenKeepAlive``, gets no answer
/// within ``FleetStore/listenKeepAliveLimit`` (a server that stopped
/// answering, or a network that dropped the connection without a word).
public struct FleetChanges: AsyncSequence, Sendable {
    public typealias Element = String
    let stream: AsyncThrowingStream<String, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<String, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

extension FleetStore {
    /// The channels the fleet's triggers announce on.
    public static let channels: Set<String> = [FleetSchema.decisionChannel, FleetSchema.changeChannel]

    /// How often a listening connection is asked `SELECT 1`: what bounds
    /// noticing a server that is gone without closing the connection.
    public static let listenKeepAlive: Duration = .seconds(10)
    /// How long that answer may take before the connection counts as lost.
    public static let listenKeepAliveLimit: Duration = .seconds(5)

    /// Starts listening on `channel` (one of ``channels``) and returns its payloads.
    public func changes(channel: String) async throws(FleetStoreError) -> FleetChanges {
        guard Self.channels.contains(channel) else {
            throw .invalid("\(channel) is not a fleet channel (\(Self.channels.sorted().joined(separator: ", ")))")
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self)
        let (started, startedContinuation) = AsyncStream.makeStream(of: FleetStoreError?.self)
        let client = self.client
        let logger = self.logger
        let task = Task {
            do {
                try await client.withConnection { connection in
                    // The channel closing ends the sequence at once, whatever the notifications do.
                    connection.closeFuture.whenComplete { _ in
                        continuation.finish(
                            throwing: FleetStoreError.unavailable("the connection listening on \(channel) closed"))
                    }
                    try await connection.listen(on: channel) { notifications in
                        startedContinuation.yield(nil)
                        startedContinuation.finish()
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                // Its end, or its error, is said now, not after the UNLISTEN that follows: on a
                                // dead connection that can hang, and a reader must learn nothing more will come.
                                do {
                                    for try await notification in notifications {
                                        continuation.yield(notification.payload)
                                    }
                                } catch {
                                    continuation.finish(
                                        throwing: FleetDatabaseFailure.describe(error, doing: "listening on \(channel)"))
                                    throw error
                                }
                                continuation.finish(
                                    throwing: FleetStoreError.unavailable("the database ended the LISTEN on \(channel)"))
                            }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: Self.listenKeepAlive)
                                    do {
                                        try await FleetDeadline.within(
                                            Self.listenKeepAliveLimit, doing: "checking the connection listening on \(channel)"
                                        ) { try await connection.query("SELECT 1", logger: logger) }
                                    } catch {
                                        // Said now: the notifications' task may not end on a dead connection.
                                        if !Task.isCancelled {
                                            continuation.finish(
                                                throwing: FleetDatabaseFailure.describe(error, doing: "listening on \(channel)"))
                                        }
                                        throw error
                                    }
                                }
                            }
                            defer { group.cancelAll() }
                            try await group.next()
                        }
                    }
                }
                continuation.finish()
            } catch {
                let failure = FleetDatabaseFailure.describe(error, doing: "listening on \(channel)")
                startedContinuation.yield(failure)
                startedContinuation.finish()
                continuation.finish(throwing: failure)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        for await failure in started {
            if let failure {
                task.cancel()
                throw failure
            }
            break
        }
        return FleetChanges(stream: stream)
    }
}
