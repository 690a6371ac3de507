import Fleet
import SidecarCommandLine
import SystemPackage

/// The fleet database for `web` and `operators`: the flags, then
/// `$SUPERVISE_DATABASE_URL`, then `[fleet] database` in the host settings
/// file (``FleetDatabaseSettings/resolve(flag:passwordFileFlag:settings:environment:)``).
extension FleetDatabaseOptions {
    /// The settings from every source; `nil` when none names a database.
    /// `otherKeys`: the `[fleet]` keys the caller reads besides the database's.
    func resolve(settingsFile: FilePath, otherKeys: Set<String> = []) throws(Failure) -> (FleetDatabaseSettings?, FleetSettingsTable) {
        do {
            let table = try FleetSettingsTable.load(from: settingsFile, otherKeys: otherKeys)
            let settings = try FleetDatabaseSettings.resolve(flag: database, passwordFileFlag: databasePasswordFile, settings: table)
            settings?.sayWarning()
            return (settings, table)
        } catch {
            throw .failed(error.description)
        }
    }
}
