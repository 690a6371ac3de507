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

    /// Starts listening on `channel` (one of ``channels``) and returns its payloads.
    public func changes(channel: String) async throws(FleetStoreError) -> FleetChanges {
        guard Self.channels.contains(channel) else {
            throw .invalid("\(channel) is not a fleet channel (\(Self.channels.sorted().joined(separator: ", ")))")
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self)
        let (started, startedContinuation) = AsyncStream.makeStream(of: FleetStoreError?.self)
        let client = self.client
        let task = Task {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        startedContinuation.yield(nil)
                        startedContinuation.finish()
                        for try await notification in notifications {
                            continuation.yield(notification.payload)
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
