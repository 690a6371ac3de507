import Foundation

/// One row of `operators list`: a named operator and their sign-in state.
public struct FleetOperator: Sendable, Equatable {
    public let name: FleetOperatorName
    public let addedAt: Date
    /// Who ran `operators add` (the database role).
    public let addedBy: String
    /// When a link of theirs was last spent; `nil`: never signed in.
    public let lastSignIn: Date?
    /// Links issued and neither spent nor expired.
    public let openLinks: Int
}
