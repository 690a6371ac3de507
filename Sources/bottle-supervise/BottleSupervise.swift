import ArgumentParser

/// The root command: it only lists the subcommands, each in its own file.
@main
struct BottleSupervise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottle-supervise",
        abstract: "A human-in-the-loop gate for sandboxed coding agents.",
        discussion: """
            Agents in a bottle ask for a config change over MCP (the sidecar, `serve`); \
            the operator reviews, decides and applies it (`console`, or the scriptable commands).
            """,
        subcommands: [Serve.self, ConsoleCommand.self]
    )
}
