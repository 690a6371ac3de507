import ArgumentParser
import Queue
import SidecarCommandLine

/// The sidecar's own executable: `serve` and `health`, the same commands,
/// flags, variables, output and exit statuses as `bottle-supervise serve` and
/// `bottle-supervise health` (they are the same code, `SidecarCommandLine`),
/// built from modules that import no Foundation — no ICU data, no host
/// commands, no web console — so the container image carries only what the
/// sidecar runs (docs/architecture.md, "The sidecar without Foundation").
@main
struct BottleSuperviseSidecar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottle-supervise-sidecar",
        abstract: "The MCP sidecar of Bottle Supervise, on its own: serve, and its health check.",
        discussion: """
            The container image's binary. The host's commands (console, approve, web…) are in bottle-supervise, \
            which has these two as well.
            """,
        version: ProductVersion.current,
        subcommands: [Serve.self, Health.self]
    )

    static func main() async {
        await CommandLineMain.run(self)
    }
}
