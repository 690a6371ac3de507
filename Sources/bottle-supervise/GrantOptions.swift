import Apply
import ArgumentParser
import SidecarCommandLine

/// `--for`, shared by `approve` and `modify`: how long the approval lasts.
/// Checked in `validate()`, so a bad duration is a usage error (2) naming
/// the value; whether the bottle allows it (its maximum, a Dockerfile) is
/// decided when the proposal is known, and refused with status 1.
struct GrantOptions: ParsableArguments {
    @Option(
        name: .customLong("for"),
        help: ArgumentHelp(
            """
            Approve for this long only (90s, 30m, 8h, 2d; `always`: for good): the change is taken out again \
            at the end (docs/grants.md). Default: the bottle's [grants] default in supervise.toml, else for good. \
            Refused on a Dockerfile.
            """,
            valueName: "duration"))
    var duration: String?

    /// The request `--for` makes (``GrantRequest/asConfigured`` without it).
    var request: GrantRequest {
        guard let duration, let parsed = try? GrantRequest.parse(duration) else { return .asConfigured }
        return parsed
    }

    func validate() throws {
        guard let duration else { return }
        do { _ = try GrantRequest.parse(duration) } catch {
            throw ValidationError("--for: \(error)")
        }
    }
}
