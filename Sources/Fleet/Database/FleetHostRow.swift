import Foundation

/// A host of the fleet as its relay last registered it.
public struct FleetHostRow: Sendable, Equatable {
    /// Its name.
    public var host: FleetHostName
    /// The database role its relay connects as.
    public var relayRole: String
    /// The relay's program version.
    public var relayVersion: String
    /// When its relay last wrote (registration, heartbeat, audit head).
    public var lastSeen: Date
    /// The head of its audit chain, when reported.
    public var auditHead: String?
    /// How many records that chain holds.
    public var auditRecords: Int
}
