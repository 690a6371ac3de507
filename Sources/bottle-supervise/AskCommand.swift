import ArgumentParser
import Foundation
import Queue
import Sidecar
import SidecarCommandLine

/// `bottle-supervise ask TOOL FILE --justification T`: play the agent from the host.
///
/// A real MCP client (``MCPHostClient``) calls one of the sidecar's tools as an
/// agent would, waits through `pending` answers with `proposal-status`, and
/// prints the operator's answer: to try the operator's side without an agent,
/// and to smoke-test a deployed sidecar.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play the agent: ask a sidecar for a config change over MCP and print the operator's answer.",
        discussion: """
            Calls TOOL (cred-proxy-block, pipelock-block or capability-block) with FILE as the full proposed \
            file and --justification as the reason, over MCP's Streamable HTTP at --url, as an agent in the \
            bottle would. When the sidecar answers 'pending' (its hold limit passed), ask waits on with the \
            proposal-status tool, as agents are told to, until the operator decides (or --no-wait prints the \
            pending answer and its proposal id; `ask --status ID` waits on later).

            Exit status: 0 approved or modified (or pending with --no-wait); 1 rejected, expired, withdrawn, \
            refused by the sidecar's validation, or the sidecar could not be reached; 2 usage.

            Examples:
              bottle-supervise ask pipelock-block ./allowlist --justification "pip needs pypi.org"
              bottle-supervise ask --url http://web-supervise:9100/mcp cred-proxy-block routes.json --justification "…"
              bottle-supervise ask --status 20261206T101500Z-1a2b3c
            """
    )

    @Argument(help: ArgumentHelp("The tool to call: cred-proxy-block, pipelock-block or capability-block.", valueName: "tool"))
    var tool: Tool?

    @Argument(help: ArgumentHelp("The full proposed file (routes.json, allowlist or Dockerfile).", valueName: "file"))
    var file: String?

    @Option(help: "Why the agent needs the change (shown to the operator; required with a tool).")
    var justification: String?

    @Option(help: "The sidecar's MCP endpoint (default: $SUPERVISE_URL, then http://127.0.0.1:9100/mcp).")
    var url: String?

    @Option(help: "Wait for the decision on an earlier proposal instead of asking (its id, from a pending answer).")
    var status: String?

    @Flag(help: "Print a 'pending' answer and its proposal id instead of waiting for the decision.")
    var noWait = false

    func validate() throws {
        _ = try endpoint()
        if let status {
            guard (try? ProposalID(status)) != nil else {
                throw ValidationError("--status \(Escaped(status)) is not a proposal id (such as 20261206-101500-1a2b3c4d5e6f, from a pending answer)")
            }
            guard tool == nil, file == nil, justification == nil else {
                throw ValidationError("--status waits on an earlier proposal: give it without a tool, file or --justification")
            }
            return
        }
        guard tool != nil else {
            throw ValidationError("give the tool to call (cred-proxy-block, pipelock-block or capability-block) and the file, or --status ID")
        }
        guard file != nil else { throw ValidationError("give the proposed file after the tool") }
        guard let justification, !justification.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--justification is required: say why the agent needs the change")
        }
    }

    /// The endpoint: --url, then $SUPERVISE_URL, then the sidecar's default on this host.
    private func endpoint() throws -> String {
        let text = url ?? EnvironmentFallback().text("SUPERVISE_URL") ?? "http://127.0.0.1:9100/mcp"
        let origin = url != nil ? "--url" : "$SUPERVISE_URL"
        guard let parsed = URL(string: text), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
            parsed.host != nil
        else {
            throw ValidationError(
                "\(origin): \(Escaped(text)) is not an http:// or https:// URL (such as http://127.0.0.1:9100/mcp)")
        }
        return text
    }

    func run() async throws {
        let url = try endpoint()
        let result = try await answer(url: url)
        print(Escaped(result.text, keepLayout: true))
        if result.isError {
            throw Failure.failed(
                result.status.map { "the answer is \($0)" } ?? "the sidecar refused the proposal (see above)")
        }
    }

    /// Asks (or, with --status, asks after an earlier proposal) and waits through `pending` unless --no-wait.
    private func answer(url: String) async throws(Failure) -> MCPHostClient.ToolResult {
        do throws(MCPHostClient.Problem) {
            // The file first: a file that cannot be sent is said before any connection is made.
            let content = try file.map { path throws(MCPHostClient.Problem) in try Self.read(path) }
            var client = try MCPHostClient(url: url)
            try await client.connect(clientName: "bottle-supervise ask")
            var result: MCPHostClient.ToolResult
            if let status {
                result = try await client.callTool(ProposalStatusTool.name, arguments: [("proposal_id", status)])
            } else if let tool, let content, let justification {
                result = try await client.callTool(
                    tool.rawValue, arguments: [(tool.fileArgument, content), ("justification", justification)])
            } else {
                throw MCPHostClient.Problem(description: "nothing to ask")
            }
            while !noWait, result.status == "pending", let id = result.proposalID {
                FileHandle.standardError.write(
                    Data("bottle-supervise ask: proposal \(Escaped(id)) is pending; waiting for the operator\n".utf8))
                result = try await client.callTool(ProposalStatusTool.name, arguments: [("proposal_id", id)])
            }
            return result
        } catch {
            throw .failed(error.description)
        }
    }

    /// The proposed file's text: a regular file (not a FIFO that would block, nor a device), at most
    /// the sidecar's request limit (it would refuse more anyway), UTF-8.
    private static func read(_ path: String) throws(MCPHostClient.Problem) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw MCPHostClient.Problem(description: "cannot read \(Escaped(path)): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MCPHostClient.Problem(description: "\(Escaped(path)) is not a regular file")
        }
        let limit = SidecarHTTPServer.maximumBodySize
        guard info.st_size <= limit else {
            throw MCPHostClient.Problem(
                description: "\(Escaped(path)) is \(info.st_size) bytes, more than a sidecar accepts (\(limit) bytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MCPHostClient.Problem(description: "cannot read \(Escaped(path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MCPHostClient.Problem(description: "\(Escaped(path)) is not UTF-8 text")
        }
        return text
    }
}
