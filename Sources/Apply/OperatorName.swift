import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The operator's user name, recorded as who decided, applied or rolled back.
///
/// Taken from the password database for the effective user (what the
/// kernel says), falling back to `$USER`, then the numeric uid.
public enum OperatorName {
    /// The current operator.
    public static var current: String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        return "uid \(geteuid())"
    }
}
