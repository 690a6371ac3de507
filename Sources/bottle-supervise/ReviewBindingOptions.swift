import ArgumentParser
import Queue
import SidecarCommandLine

/// `--expect-sha256`, shared by `approve`, `modify` and `reject`: a scripted
/// decision bound to the proposal file it checked. Without it, a decision is
/// bound to what `show` last displayed (``ReviewRecord``).
struct ReviewBindingOptions: ParsableArguments {
    @Option(
        name: .customLong("expect-sha256"),
        help: ArgumentHelp(
            "Decide only if the proposal file still has this SHA-256: the 64 hex digits `show` prints on its sha256 line.",
            valueName: "sha256"))
    var expectSHA256: ReviewedDigest?
}

/// A SHA-256 as an operator types it: 64 hex digits, any case, kept lowercase.
struct ReviewedDigest: ExpressibleByArgument, Sendable {
    let hex: String

    init?(argument: String) {
        let hex = argument.lowercased()
        guard SHA256Hex.isWellFormed(hex) else { return nil }
        self.hex = hex
    }
}
