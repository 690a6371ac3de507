import Prometheus
import Queue

/// What `GET /metrics` shows: pending proposals, held calls, decisions by
/// status, and requests by method with their latency.
///
/// Counters live in one Prometheus registry owned by the sidecar (not the
/// process-wide MetricsSystem), so tests can run several sidecars side by side.
public final class SidecarMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let pending: Gauge
    private let held: Gauge

    /// A fresh registry.
    public init() {
        pending = registry.makeGauge(name: "supervise_pending_proposals", help: "Proposals waiting for a decision.")
        held = registry.makeGauge(name: "supervise_held_calls", help: "Tool calls held open for a decision.")
    }

    /// Counts one request of `method` that took `duration`.
    public func request(_ method: String, took duration: Duration) {
        let label = Self.knownMethods.contains(method) ? method : "other"
        registry.makeCounter(name: "supervise_requests_total", labels: [("method", label)]).increment()
        registry.makeDurationHistogram(
            name: "supervise_request_duration_seconds", labels: [("method", label)], buckets: Self.buckets
        ).record(duration)
    }

    /// Counts a decision delivered to (or withdrawn by) the agent.
    public func decision(_ status: DecisionStatus) {
        registry.makeCounter(name: "supervise_decisions_total", labels: [("status", status.rawValue)]).increment()
    }

    /// Sets the held-calls gauge.
    public func heldCalls(_ count: Int) { held.set(Double(count)) }

    /// The Prometheus text exposition, with `pendingCount` as the pending gauge.
    public func exposition(pendingCount: Int) -> [UInt8] {
        pending.set(Double(pendingCount))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private static let knownMethods: Set<String> = [
        "initialize", "notifications/initialized", "ping", "tools/list", "tools/call", "server/discover",
        "notifications/cancelled",
    ]
    private static let buckets: [Duration] = [
        .microseconds(100), .milliseconds(1), .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10),
        .seconds(60), .seconds(600), .seconds(3600),
    ]
}
