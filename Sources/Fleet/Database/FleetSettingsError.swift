/// A fleet setting that cannot be used: one sentence naming the value, where
/// it came from (`--database`, `$SUPERVISE_DATABASE_URL`, `[fleet] database`
/// in the settings file) and what to do instead. Commands print it and exit 2.
public enum FleetSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    /// The sentence.
    public var message: String {
        switch self {
        case .invalid(let text): text
        }
    }

    public var description: String { "fleet database settings: \(message)" }
}
