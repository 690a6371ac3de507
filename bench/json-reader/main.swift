import Baseline
import Current

/// Reads the sidecar's typical request bodies many times with the current
/// JSON reader and with a baseline, interleaved in rounds so the shared
/// machine's slow spells hit both; prints the median ns per body.
let bodies: [(name: String, text: String)] = [
    ("tools/list", #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
    (
        "initialize",
        #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":{},"roots":{"listChanged":true}},"clientInfo":{"name":"mcp","version":"0.1.0"}}}"#
    ),
    (
        "tools/call 4 KiB",
        #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"pipelock-block","arguments":{"allowlist":""#
            + String(repeating: #"api.example.com\n"#, count: 240)
            + #"","justification":"the tests need api.example.com \u00e9"},"_meta":{"progressToken":7}}}"#
    ),
]
let rounds = 6
let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000

func measure(_ read: (UnsafeBufferPointer<UInt8>) -> Int, _ bytes: [UInt8], count: Int) -> Double {
    var sink = 0
    let clock = ContinuousClock()
    let elapsed = bytes.withUnsafeBufferPointer { buffer in
        clock.measure {
            for _ in 0..<count { sink &+= read(buffer) }
        }
    }
    precondition(sink > 0, "the body did not parse")
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    return nanoseconds / Double(count)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

print("body                 baseline ns   current ns   current/baseline")
for body in bodies {
    let bytes = Array(body.text.utf8)
    let count = body.text.utf8.count > 1000 ? iterations / 10 : iterations
    var baseline: [Double] = []
    var current: [Double] = []
    for round in 0..<rounds {
        // Alternate which goes first: the second of a pair runs on the heap
        // and caches the first left behind.
        if round % 2 == 0 {
            baseline.append(measure(Baseline.readBody, bytes, count: count))
            current.append(measure(Current.readBody, bytes, count: count))
        } else {
            current.append(measure(Current.readBody, bytes, count: count))
            baseline.append(measure(Baseline.readBody, bytes, count: count))
        }
    }
    let (b, c) = (median(baseline), median(current))
    print(
        body.name.padding(toLength: 20, withPad: " ", startingAt: 0),
        String(format: "%11.0f  %11.0f   %6.2f", b, c, c / b))
}
