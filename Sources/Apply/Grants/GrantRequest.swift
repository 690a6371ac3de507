import Foundation
import Queue

/// How long an approval should last, as asked for: the entry point for
/// every way of deciding (`approve --for`, the TUI, the web buttons, and a
/// standing rule's `for = "1h"`), resolved against the bottle's
/// ``GrantLimits`` by ``resolve(for:bottle:limits:)``.
public enum GrantRequest: Sendable, Equatable {
    /// What the bottle's `supervise.toml` sets as the default (permanent when it sets none).
    case asConfigured
    /// For good (`--for always`).
    case permanent
    /// For this long.
    case lasting(GrantDuration)

    /// Parses `always` or a duration (`90s`, `30m`, `8h`, `2d`).
    public static func parse(_ text: String) throws(GrantDuration.ParseError) -> GrantRequest {
        if text == "always" { return .permanent }
        return .lasting(try GrantDuration.parse(text))
    }

    /// The duration the approval gets (`nil`: permanent), or why it is refused.
    /// - Throws: ``ApplyError/grantRefused(_:)`` for a time-boxed Dockerfile,
    ///   and for a request longer than the bottle's maximum (naming it).
    public func resolve(for file: ConfigFile, bottle: BottleSlug, limits: GrantLimits?) throws(ApplyError)
        -> GrantDuration?
    {
        if file == .dockerfile {
            if case .lasting(let duration) = self {
                throw .grantRefused(
                    "a Dockerfile approval cannot be time-boxed (asked for \(duration)): undoing it would mean "
                        + "rebuilding and replacing the bottle, so it is approved for good or not at all; "
                        + "approve without --for")
            }
            return nil
        }
        let source = "\(bottle)'s supervise.toml, [grants.\(GrantLimits.sectionName(file))]"
        switch self {
        case .asConfigured:
            return limits?.defaultDuration ?? limits?.maximum
        case .permanent:
            if let maximum = limits?.maximum {
                throw .grantRefused(
                    "\(file.fileName) grants of \(bottle) last at most \(maximum) (\(source) maximum); "
                        + "a permanent approval is refused: give --for \(maximum) or less")
            }
            return nil
        case .lasting(let duration):
            if let maximum = limits?.maximum, duration > maximum {
                throw .grantRefused(
                    "\(duration) is longer than the maximum of \(maximum) for \(file.fileName) grants of \(bottle) "
                        + "(\(source)); give --for \(maximum) or less")
            }
            return duration
        }
    }
}

/// A bottle's default and maximum grant for one file, from `supervise.toml`:
///
/// ```toml
/// [grants.allowlist]
/// default = "8h"     # approve without --for: a grant this long
/// maximum = "2d"     # longer requests, and permanent approvals, are refused
/// ```
/// With a maximum and no default, the default is the maximum.
public struct GrantLimits: Sendable, Equatable {
    /// The duration an approval without `--for` gets; `nil`: permanent (or the maximum, when set).
    public var defaultDuration: GrantDuration?
    /// The longest grant; `nil`: no limit, and permanent approvals allowed.
    public var maximum: GrantDuration?

    /// Limits with these values.
    public init(defaultDuration: GrantDuration? = nil, maximum: GrantDuration? = nil) {
        self.defaultDuration = defaultDuration
        self.maximum = maximum
    }

    /// The `[grants.X]` section name of `file`, as for `[reload.X]`.
    static func sectionName(_ file: ConfigFile) -> String {
        switch file {
        case .routes: "routes"
        case .allowlist: "allowlist"
        case .dockerfile: "dockerfile"
        }
    }
}
