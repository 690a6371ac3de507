import Foundation
import Queue
import SystemPackage
import TOMLKit

/// The `[fleet]` table of the host settings file (host.toml): `database`
/// (the URL, without a password), `password_file` (a 0600 file holding the
/// password) and `host_name` (this host's name in the fleet).
///
/// Read strictly, like the other tables: an unknown key is an error that
/// names it (a typo in `database` must not silently leave the host out of the
/// fleet). Other fleet features that add keys to the table pass them as
/// `otherKeys`.
public struct FleetSettingsTable: Sendable, Equatable {
    /// `database`: the URL.
    public var database: String?
    /// `password_file`: the password file's path.
    public var passwordFile: String?
    /// `host_name`, validated.
    public var hostName: FleetHostName?
    /// The settings file read, for messages; `nil` when none was.
    public var path: String?

    /// No settings.
    public init() {}

    /// Where `key` came from, for a message: `[fleet] database in /path/host.toml`.
    public func origin(_ key: String) -> String {
        "[fleet] \(key)" + (path.map { " in \($0)" } ?? "")
    }

    /// Loads `[fleet]` from the settings file at `path`; a missing file is no settings.
    public static func load(from path: FilePath, otherKeys: Set<String> = []) throws(FleetSettingsError) -> FleetSettingsTable {
        guard let data = FileManager.default.contents(atPath: path.string) else {
            if FileManager.default.fileExists(atPath: path.string) { throw .invalid("cannot read the settings file \(path)") }
            return FleetSettingsTable()
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path.string, otherKeys: otherKeys)
    }

    /// Parses a settings file's text; tables other than `[fleet]` are left to their readers.
    public static func parse(_ text: String, path: String? = nil, otherKeys: Set<String> = []) throws(FleetSettingsError)
        -> FleetSettingsTable
    {
        let place = path ?? "the settings file"
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw .invalid("\(place): line \(error.source.begin.line): \(error.description)")
        } catch {
            throw .invalid("\(place) is not valid TOML")
        }
        var table = FleetSettingsTable()
        table.path = path
        guard let value = root["fleet"] else { return table }
        guard let fleet = value.table else { throw .invalid("\(place): fleet must be a table: [fleet]") }
        let known = FleetDatabaseSettings.settingsKeys.union(otherKeys)
        for key in fleet.keys where !known.contains(key) {
            throw .invalid(
                "\(place): unknown key fleet.\(Escaped(key)); expected one of \(known.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws(FleetSettingsError) -> String? {
            guard let value = fleet[key] else { return nil }
            guard let text = value.string, !text.isEmpty else {
                throw .invalid("\(table.origin(key)) must be a non-empty string")
            }
            return text
        }
        table.database = try string("database")
        table.passwordFile = try string("password_file")
        if let name = try string("host_name") {
            table.hostName = try FleetHostName(name, source: table.origin("host_name"))
        }
        return table
    }
}
