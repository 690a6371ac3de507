/// Why a fleet database operation failed, in one sentence an operator can act on.
///
/// postgres-nio's own errors describe themselves generically (to keep query
/// values out of logs); ``FleetStore`` turns them into these, with the
/// server's message and SQLSTATE, never a bound value.
public enum FleetStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server could not be reached or the connection failed.
    case unavailable(String)
    /// The server refused a statement (a constraint, a permission, …).
    case refused(String)
    /// The role may not create the schema: run the named command as the schema's owner.
    case needsMigration(String)
    /// The database's schema is newer than this program.
    case schemaTooNew(String)
    /// A value given to the store is not acceptable (a claim's status, a digest).
    case invalid(String)
    /// A proposal's bytes do not hash to the digest they were read with.
    case digestMismatch(String)
    /// The host name is registered to another database role's relay.
    case hostNameHeld(String)

    /// The sentence.
    public var message: String {
        switch self {
        case .unavailable(let text), .refused(let text), .needsMigration(let text), .schemaTooNew(let text),
            .invalid(let text), .digestMismatch(let text), .hostNameHeld(let text):
            text
        }
    }

    public var description: String { "fleet database: \(message)" }
}
