/// Where a host's audit chain stands: the hash the next record will chain to
/// and how many records the log holds.
///
/// Why mirrored (the fleet's relay sends it to `fleet_hosts`): a log cut
/// back or rewritten on the host shows as a head that does not continue the
/// one the database saw, from another machine; the log itself stays on the
/// host, read only by its own commands.
public struct AuditHead: Sendable, Equatable {
    /// SHA-256 of the last line (the `prev` of the next record):
    /// ``AuditLog/genesis`` for an empty log, ``AuditLog/oversizedPrevious``
    /// when the last line is too long to be a record.
    public let head: String
    /// How many lines (records) the log holds.
    public let records: Int

    public init(head: String, records: Int) {
        self.head = head
        self.records = records
    }
}
