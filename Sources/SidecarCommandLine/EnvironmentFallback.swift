import ArgumentParser
import FoundationEssentials
import SystemPackage

/// A setting's value from its flag, else its environment variable, else its
/// default: the order docs/configuration.md gives for every setting.
///
/// The one place a command reads `SUPERVISE_*` variables for a flag. An empty
/// variable counts as unset (a container's `ENV X=` clears it). A variable
/// that does not parse is bad input like a bad flag: a `ValidationError`
/// naming the variable and what a valid value looks like, thrown from
/// `validate()` so the command's usage is shown and nothing starts.
public struct EnvironmentFallback {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The variable's text, `nil` when unset or empty.
    public func text(_ variable: String) -> String? {
        environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `flag`, else `variable` parsed as `Value`, else `fallback`.
    /// - Parameter expected: what a valid value looks like, for the error.
    public func value<Value: ExpressibleByArgument>(
        _ flag: Value?, _ variable: String, default fallback: Value?, expected: String
    ) throws -> Value? {
        if let flag { return flag }
        guard let text = text(variable) else { return fallback }
        guard let value = Value(argument: text) else {
            throw ValidationError("$\(variable) is \"\(text)\", not \(expected)")
        }
        return value
    }

    /// A text setting: `flag`, else `variable`, else `fallback`.
    public func value(_ flag: String?, _ variable: String, default fallback: String) -> String {
        flag ?? text(variable) ?? fallback
    }

    /// A whether-on setting: the flag, or the variable set to anything non-empty.
    public func isOn(_ flag: Bool, _ variable: String) -> Bool {
        flag || text(variable) != nil
    }

    /// A directory: the flag, else the variable, else `home` under the user's home directory.
    public func path(_ flag: String?, variable: String, home: String) -> FilePath {
        if let flag { return FilePath(flag) }
        if let value = text(variable) { return FilePath(value) }
        return FilePath(FileManager.default.homeDirectoryForCurrentUser.path).appending(home)
    }
}
