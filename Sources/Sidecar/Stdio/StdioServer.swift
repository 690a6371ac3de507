import Queue
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sidecar over stdin/stdout, for agents that launch it as a subprocess:
/// newline-delimited JSON-RPC, one message per line, logs on stderr only.
///
/// The same ``Dispatcher`` as over HTTP. A held call runs in its own task so
/// the loop keeps reading (a `notifications/cancelled` must get through);
/// keep-alives are progress notifications when the call carried a progress
/// token. End of input is a dropped connection: held calls stop waiting and
/// their proposals stay pending.
public struct StdioServer: Sendable {
    /// The method table.
    public let dispatcher: Dispatcher
    /// Keep-alive interval for held calls that carry a progress token.
    public let keepalive: Duration
    private let output = OutputLock()

    /// A server over `dispatcher`.
    public init(dispatcher: Dispatcher, keepalive: Duration) {
        self.dispatcher = dispatcher
        self.keepalive = keepalive
    }

    /// Serves until stdin ends; returns once every held call has ended.
    public func run() async {
        let lines = Self.stdinLines()
        var revision: ProtocolRevision?
        await withTaskGroup(of: Void.self) { group in
            for await line in lines {
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                let message: RPCMessage
                switch RPCMessage.decode(Array(line.utf8)) {
                case .success(let decoded): message = decoded
                case .failure(let failure):
                    write(RPCReply.error(id: failure.id, failure.error))
                    continue
                }
                if message.method == "initialize", message.envelopeRevision == nil {
                    revision = ProtocolRevision.negotiate(message.params["protocolVersion"]?.stringValue)
                }
                switch dispatcher.handle(message, session: "", sessionRevision: revision, startsSessions: false) {
                case .accepted: break
                case .response(let bytes, _), .refused(let bytes, _): write(bytes)
                case .toolCall(let call):
                    group.addTask {
                        switch await dispatcher.admit(call) {
                        case .response(let bytes): write(bytes)
                        case .delivery(let bytes, let proposal):
                            write(bytes)
                            await dispatcher.holder.delivered(proposal)
                        case .held(let held, let context): await hold(held, context)
                        }
                    }
                }
            }
            dispatcher.holder.shutdownForDisconnect()
        }
    }

    private func hold(_ call: HeldCall, _ context: Dispatcher.Context) async {
        let holder = dispatcher.holder
        let waiting = Task { await holder.wait(call) }
        let beats: Task<Void, Never>? = context.progressToken.map { token in
            Task {
                var beat = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: keepalive)
                    if Task.isCancelled { return }
                    beat += 1
                    write(
                        RPCReply.notification(
                            method: "notifications/progress",
                            params: .object([
                                "progressToken": token, "progress": .integer(beat),
                                "message": .string(
                                    "waiting for the operator's decision on proposal \(call.proposal.id)"),
                            ])))
                }
            }
        }
        let outcome = await waiting.value
        beats?.cancel()
        switch outcome {
        case .cancelled, .disconnected: return
        case .decided(_, let proposal):
            write(dispatcher.answer(outcome, to: context))
            await holder.delivered(proposal)
        case .pending, .restarting, .failed:
            write(dispatcher.answer(outcome, to: context))
        }
    }

    private func write(_ bytes: [UInt8]) {
        output.lock.withLock { _ in
            var line = bytes
            line.append(UInt8(ascii: "\n"))
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = standardOutputWrite(raw.baseAddress! + offset, raw.count - offset)
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    /// Lines of stdin, read on a thread of their own so a blocking read never holds a task.
    private static func stdinLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            NamedThread.start("stdio-reader") {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
        }
    }
}

/// Serialises writes to stdout, so two answers never interleave on one line.
private final class OutputLock: Sendable {
    let lock = Mutex(())
}

/// write(2) to standard output (the bare name `write` is the server's own method).
private func standardOutputWrite(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(1, bytes, count)
    #else
        Darwin.write(1, bytes, count)
    #endif
}
