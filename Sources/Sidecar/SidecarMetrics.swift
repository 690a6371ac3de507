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
    private let requests: [String: (Counter, DurationHistogram)]

    /// A fresh registry.
    public init() {
        pending = registry.makeGauge(descriptor: Self.pendingProposals)
        held = registry.makeGauge(descriptor: Self.heldCalls)
        var perMethod: [String: (Counter, DurationHistogram)] = [:]
        for method in Self.knownMethods.union(["other"]) {
            perMethod[method] = (
                registry.makeCounter(descriptor: Self.requestsTotal, labels: [("method", method)]),
                registry.makeDurationHistogram(
                    descriptor: Self.requestDuration, labels: [("method", method)], buckets: Self.buckets)
            )
        }
        requests = perMethod
    }

    /// Counts one request of `method` that took `duration`. The collectors are
    /// made once, so the hot path is a dictionary lookup and two atomic updates.
    public func request(_ method: String, took duration: Duration) {
        guard let (counter, histogram) = requests[method] ?? requests["other"] else { return }
        counter.increment()
        histogram.record(duration)
    }

    /// Counts a decision delivered to (or withdrawn by) the agent.
    public func decision(_ status: DecisionStatus) {
        registry.makeCounter(descriptor: Self.decisionsTotal, labels: [("status", status.rawValue)]).increment()
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

    // Metric names are `supervise_<metric>_<unit>`. (Computed: the descriptor type is not Sendable.)
    private static var pendingProposals: MetricNameDescriptor {
        named("pending", "proposals", help: "Proposals waiting for a decision.")
    }
    private static var heldCalls: MetricNameDescriptor {
        named("held", "calls", help: "Tool calls held open for a decision.")
    }
    private static var requestsTotal: MetricNameDescriptor {
        named("requests", "total", help: "Requests by JSON-RPC method.")
    }
    private static var requestDuration: MetricNameDescriptor {
        named(
            "request_duration", "seconds",
            help: "Time to answer a request, by JSON-RPC method (a held tools/call: until its answer).")
    }
    private static var decisionsTotal: MetricNameDescriptor {
        named("decisions", "total", help: "Decisions delivered to (or withdrawn by) the agent, by status.")
    }
    private static func named(_ metric: String, _ unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "supervise", metricName: metric, unitName: unit, helpText: help)
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
