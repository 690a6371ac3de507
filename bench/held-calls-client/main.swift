// held-calls-client: opens many connections to a sidecar, posts one held
// `tools/call` on each and waits for every answer — the load half of
// bench/held-calls.sh, in Swift so that on a 2-core machine the client does
// not take the cores the server is being measured on (the Python client
// needed 2.5 s of CPU just to open 10,000 connections).
//
// Usage: held-calls-client HOST PORT CALLS OUTPUT [TIMEOUT_SECONDS]
// Call n proposes the allowlist `host-<n>.example.com`. Prints "sent" on
// stdout once every request is written; when every call is answered (or
// the timeout passes) writes OUTPUT: one line per call,
// `<n> <sent epoch s> <answered epoch s or -> <status or error>`.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

struct Call {
    var sent: Double = 0
    var answered: Double?
    var outcome = "-"
}

final class Results: Sendable {
    let calls: Mutex<[Call]>
    let remaining: Atomic<Int>
    init(count: Int) {
        calls = Mutex(Array(repeating: Call(), count: count + 1))
        remaining = Atomic(count)
    }
}

func now() -> Double { Date().timeIntervalSince1970 }

/// Reads one response: a JSON body, or an event stream whose `message` event with a result or error ends it.
final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let n: Int
    let results: Results
    var body = ""
    var done = false

    init(n: Int, results: Results) {
        self.n = n
        self.results = results
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: break
        case .body(let buffer):
            body += String(buffer: buffer)
            if body.contains("\"id\":\(n),\"result\"") || body.contains("\"id\":\(n),\"error\"") {
                finish(context: context)
            }
        case .end: finish(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) { finish(context: context) }

    private func finish(context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        let outcome: String
        if let range = body.range(of: "\"status\":\"") {
            outcome = String(body[range.upperBound...].prefix { $0 != "\"" })
        } else if let range = body.range(of: "status: ") {  // the seed says it in its text only
            outcome = String(body[range.upperBound...].prefix { $0.isLetter })
        } else if body.contains("\"error\"") {
            outcome = "error"
        } else {
            outcome = "closed"
        }
        // Closed without an answer (the seed resets what its backlog cannot hold): not answered.
        let time: Double? = outcome == "closed" ? nil : now()
        results.calls.withLock {
            $0[n].answered = time
            $0[n].outcome = outcome
        }
        results.remaining.subtract(1, ordering: .relaxed)
        context.close(promise: nil)
    }
}

func request(_ n: Int, host: String, port: Int) -> (HTTPRequestHead, ByteBuffer) {
    let body =
        #"{"jsonrpc":"2.0","id":\#(n),"method":"tools/call","params":{"name":"pipelock-block","arguments":{"allowlist":"host-\#(n).example.com\n","justification":"call \#(n) of a held-calls benchmark"}}}"#
    var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/mcp")
    head.headers.add(name: "Host", value: "\(host):\(port)")
    head.headers.add(name: "Content-Type", value: "application/json")
    head.headers.add(name: "Accept", value: "application/json, text/event-stream")
    head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
    return (head, ByteBuffer(string: body))
}

let arguments = CommandLine.arguments
guard arguments.count >= 5, let port = Int(arguments[2]), let count = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: held-calls-client HOST PORT CALLS OUTPUT [TIMEOUT_SECONDS]\n".utf8))
    exit(2)
}
let host = arguments[1]
let output = arguments[4]
let timeout = arguments.count > 5 ? Double(arguments[5]) ?? 120 : 120
var limit = rlimit()
getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = limit.rlim_max
setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)

// Resolved once, not per connection (`connect(host:port:)` resolves and runs
// the happy-eyeballs state machine each time).
guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: port) else {
    FileHandle.standardError.write(Data("held-calls-client: cannot resolve \(host)\n".utf8))
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let results = Results(count: count)
let inFlight = 512  // connects at a time, as the Python client
var next = 1
func connect(_ n: Int) -> EventLoopFuture<Void> {
    ClientBootstrap(group: group)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(AnswerHandler(n: n, results: results))
            }
        }
        .connect(to: address)
        .flatMap { channel in
            let (head, body) = request(n, host: host, port: port)
            let sent = now()
            results.calls.withLock { $0[n].sent = sent }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            return channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        }
}

var waves: [EventLoopFuture<Void>] = []
while next <= count {
    let wave = (next..<min(next + inFlight, count + 1)).map { n in
        connect(n).flatMapErrorThrowing { error in
            results.calls.withLock { $0[n].outcome = "connect-failed" }
            results.remaining.subtract(1, ordering: .relaxed)
        }
    }
    next += inFlight
    try? EventLoopFuture.andAllComplete(wave, on: group.next()).wait()
}
FileHandle.standardOutput.write(Data("sent\n".utf8))
let deadline = now() + timeout
while results.remaining.load(ordering: .relaxed) > 0, now() < deadline { usleep(20_000) }
let lines = results.calls.withLock { calls in
    (1...count).map { n in
        let call = calls[n]
        return "\(n) \(call.sent) \(call.answered.map { "\($0)" } ?? "-") \(call.outcome)"
    }
}
try? (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
try? group.syncShutdownGracefully()
