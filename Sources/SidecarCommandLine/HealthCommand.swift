import ArgumentParser
import FoundationEssentials
import Sidecar

/// `bottle-supervise health`: the container's health check.
///
/// The image is `FROM scratch` (no shell, no curl), so its `HEALTHCHECK`
/// runs the binary itself. Exit 0 healthy, 1 unhealthy: what Docker and
/// Podman expect of a health check command.
public struct Health: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that a sidecar on this host answers GET /health (exit 0 healthy, 1 not).",
        discussion: """
            The container image's HEALTHCHECK. It reads the same settings as `serve` (--port, then \
            $SUPERVISE_PORT, then 9100; the address from $SUPERVISE_BIND, a wildcard bind checked over \
            loopback) and gives up after --timeout seconds, so it never outlives the engine's own timeout.

            Examples:
              bottle-supervise health
              bottle-supervise health --port 19100 --timeout 0.5
            """
    )

    // Numbers are read .unconditional: `--timeout -1` is a bad number (reported as such), not a missing value.
    @Option(parsing: .unconditional, help: "The sidecar's port (default: $SUPERVISE_PORT, then 9100).")
    var port: Int?

    @Option(help: "The address to ask (default: from $SUPERVISE_BIND: 0.0.0.0 → 127.0.0.1, :: → ::1).")
    var address: ListenAddress?

    @Option(parsing: .unconditional, help: "Seconds for the whole check: connect, ask, read the answer.")
    var timeout: Double = 1.5

    public init() {}

    public func validate() throws {
        guard timeout > 0, timeout.isFinite else {
            throw ValidationError("--timeout must be a positive number of seconds, not \(timeout)")
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1…65535, not \(port)") }
    }

    public func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let portNumber: Int
        if let port {
            portNumber = port
        } else if let text = environment["SUPERVISE_PORT"], !text.isEmpty {
            guard let value = Int(text), (1...65535).contains(value) else {
                throw ValidationError("SUPERVISE_PORT is not a port number: \(text)")
            }
            portNumber = value
        } else {
            portNumber = 9100
        }
        let target = address.map { $0.text == "localhost" ? "127.0.0.1" : $0.text } ?? HealthProbe.address(forBind: environment["SUPERVISE_BIND"] ?? "")
        let probe = HealthProbe(address: target, port: portNumber, timeout: .milliseconds(Int64(timeout * 1000)))
        switch probe.run() {
        case .healthy:
            print("healthy: \(target.contains(":") ? "[\(target)]" : target):\(portNumber) answered /health")
        case .unhealthy(let reason):
            print("unhealthy: \(reason)")
            throw ExitCode(1)
        }
    }
}
