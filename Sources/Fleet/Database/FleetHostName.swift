import Foundation
import Queue

#if canImport(Glibc)
    import Glibc
#endif

/// The name a host goes by in the fleet: the `host` column of every row its
/// relay writes, the payload of the NOTIFY that wakes that relay, the label
/// an operator filters by.
///
/// Validated exactly like the schema's CHECK on `fleet_hosts.host` (lower-case
/// letters, digits, `.` and `-`; 1 to 64 characters; starting and ending with
/// a letter or digit), so a name this type accepts is never refused by the
/// database, and a name it refuses is reported where it was given
/// (`--host-name`, `[fleet] host_name`) rather than as a constraint violation.
public struct FleetHostName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The validated name.
    public let rawValue: String

    /// The longest name the schema accepts.
    public static let maximumLength = 64

    /// A host name; `source` names where it came from for the message.
    /// - Throws: ``FleetSettingsError`` naming the value, its source, and the rule.
    public init(_ rawValue: String, source: String = "the host name") throws(FleetSettingsError) {
        guard Self.isValid(rawValue) else {
            throw .invalid(
                "\(source) \(Self.quoted(rawValue)) is not a fleet host name: use 1 to \(Self.maximumLength) lower-case "
                    + "letters, digits, '.' and '-', starting and ending with a letter or digit (for example web-1.example)")
        }
        self.rawValue = rawValue
    }

    /// Whether `text` passes the schema's CHECK (`^[a-z0-9]([a-z0-9.-]{0,62}[a-z0-9])?$`).
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        func isAlnum(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard isAlnum(bytes[0]), isAlnum(bytes[bytes.count - 1]) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// This host's name: `--host-name`, then `[fleet] host_name`, then the machine's name.
    public static func resolve(flag: String?, settings: FleetSettingsTable = FleetSettingsTable()) throws(FleetSettingsError)
        -> FleetHostName
    {
        if let flag { return try FleetHostName(flag, source: "--host-name") }
        if let configured = settings.hostName { return configured }
        return try machine()
    }

    /// The machine's host name, lower-cased: the default when no name is given.
    /// - Throws: when the system's name is not a valid fleet host name
    ///   (an underscore, say), with the advice to pass `--host-name`.
    public static func machine() throws(FleetSettingsError) -> FleetHostName {
        var buffer = [CChar](repeating: 0, count: 256)
        let name: String
        if gethostname(&buffer, buffer.count - 1) == 0 {
            name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            name = ""
        }
        let lowered = name.lowercased()
        guard isValid(lowered) else {
            throw .invalid(
                "this machine's host name \(quoted(name)) is not a fleet host name (1 to \(maximumLength) lower-case "
                    + "letters, digits, '.' and '-'); name the host with --host-name NAME or [fleet] host_name")
        }
        return try FleetHostName(lowered)
    }

    public var description: String { rawValue }

    public static func < (lhs: FleetHostName, rhs: FleetHostName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A value quoted for a message: escaped (it may come from anywhere), at most 80 characters.
    static func quoted(_ text: String) -> String {
        let shown = text.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(80))) + "…" : text
        return "\"\(Escaped(shown))\""
    }
}
