import Foundation
import SystemPackage
import TOMLKit

/// The `[fleet]` keys the fleet page reads from the host settings file
/// besides the database's: `approvals = N`, how many distinct operators must
/// approve a proposal with a critical risk hint (default 1).
public enum FleetWebSettings {
    /// The keys read here (passed to ``FleetSettingsTable`` as known keys).
    public static let keys: Set<String> = ["approvals"]

    /// The most approvals a threshold may ask for.
    public static let maximumApprovals = 16

    /// The threshold in the settings file at `path`; the default when the file or the key is missing.
    public static func threshold(from path: FilePath) throws(FleetSettingsError) -> ApprovalThreshold {
        guard let data = FileManager.default.contents(atPath: path.string) else { return ApprovalThreshold() }
        return try threshold(in: String(decoding: data, as: UTF8.self), path: path.string)
    }

    /// The threshold in settings text (its TOML syntax is judged by ``FleetSettingsTable``).
    public static func threshold(in text: String, path: String) throws(FleetSettingsError) -> ApprovalThreshold {
        guard let root = try? TOMLTable(string: text), let value = root["fleet"]?.table?["approvals"] else {
            return ApprovalThreshold()
        }
        guard let count = value.int, (1...maximumApprovals).contains(count) else {
            throw .invalid(
                "[fleet] approvals in \(path) must be a whole number from 1 to \(maximumApprovals) (the distinct operators "
                    + "who must approve a proposal with a critical risk hint), not \(value.debugDescription)")
        }
        return ApprovalThreshold(critical: count, origin: "in \(path)")
    }
}
