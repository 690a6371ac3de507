import Queue
import Testing

@testable import Sidecar

@Suite("Metrics")
struct MetricsTests {
    @Test("the exposition shows pending proposals, held calls, decisions by status and requests by method")
    func exposition() {
        let metrics = SidecarMetrics()
        metrics.request("tools/list", took: .microseconds(50))
        metrics.request("tools/list", took: .milliseconds(5))
        metrics.request("no/such-method", took: .microseconds(20))
        metrics.decision(.approved)
        metrics.decision(.approved)
        metrics.decision(.withdrawn)
        metrics.heldCalls(3)
        let text = String(decoding: metrics.exposition(pendingCount: 5), as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("supervise_pending_proposals 5.0"))
        #expect(lines.contains("supervise_held_calls 3.0"))
        #expect(lines.contains(#"supervise_requests_total{method="tools/list"} 2"#))
        #expect(lines.contains(#"supervise_requests_total{method="other"} 1"#))
        #expect(lines.contains(#"supervise_decisions_total{status="approved"} 2"#))
        #expect(lines.contains(#"supervise_decisions_total{status="withdrawn"} 1"#))
        #expect(lines.contains(#"supervise_request_duration_seconds_bucket{method="tools/list",le="0.0001"} 1"#))
        #expect(lines.contains(#"supervise_request_duration_seconds_count{method="tools/list"} 2"#))
        #expect(lines.contains("# TYPE supervise_requests_total counter"))
        #expect(text.contains("# HELP supervise_decisions_total "))
    }
}
