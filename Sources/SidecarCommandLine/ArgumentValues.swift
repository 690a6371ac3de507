import ArgumentParser
import Queue

// Domain values that parse themselves from the command line, so a bad one is a
// usage error (status 2) naming the argument and what a valid value looks like,
// before `run()` starts. The domain types live in the Queue module, which does
// not depend on ArgumentParser; the conformances are the command line's (both executables).

extension BottleSlug: ExpressibleByArgument {
    /// A slug as typed: the rule of ``BottleSlug/init(_:)``, whose help text the
    /// options repeat (`BottleSlug.argumentRule`), since a failed parse shows it.
    public init?(argument: String) {
        guard let slug = try? BottleSlug(argument) else { return nil }
        self = slug
    }

    /// What a valid slug looks like, for help texts and error messages.
    public static let argumentRule = "1–63 letters, digits, '_', '.' or '-', starting with a letter or digit"
}

extension ConfigFile: ExpressibleByArgument {
    /// `routes.json`, `allowlist` or `Dockerfile` (the help and the error list them).
    public static var allValueStrings: [String] { allCases.map(\.fileName) }
}

extension Tool: ExpressibleByArgument {
    /// `cred-proxy-block`, `pipelock-block` or `capability-block`, as the sidecar names its tools.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
