import ServiceLifecycle

/// Ends held calls when the service group shuts down (SIGTERM): each gets
/// "sidecar restarting; retry the same call", its proposal stays pending, and the HTTP
/// server can then drain and exit at once.
public struct SidecarShutdown: Service {
    /// The calls to end.
    public let holder: CallHolder

    /// A shutdown hook for `holder`.
    public init(holder: CallHolder) { self.holder = holder }

    /// Waits for graceful shutdown, then ends held calls.
    public func run() async throws {
        try? await gracefulShutdown()
        holder.shutdown()
    }
}
