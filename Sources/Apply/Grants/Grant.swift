import Foundation
import Queue

/// One time-boxed grant, as the host's ledger records it (``GrantLedger``).
///
/// A grant is made by approving one proposal for a time, so it is named by
/// that proposal's id (`revoke 20261206-101500-3fa9c2d1e4b7`). It holds the
/// change the approval made (``GrantHoldings``) and ends at ``expiresAt``,
/// earlier when revoked; ended grants stay in the ledger for `grants --all`.
public struct Grant: Codable, Sendable, Equatable {
    /// The proposal whose approval made the grant; also the grant's name.
    public var id: ProposalID
    /// The bottle.
    public var bottle: BottleSlug
    /// The file the grant changed.
    public var file: ConfigFile
    /// What it holds.
    public var holdings: GrantHoldings
    /// Who approved it.
    public var grantedBy: String
    /// When it was applied.
    public var grantedAt: Date
    /// When it ends.
    public var expiresAt: Date
    /// How it ended, once it has.
    public var ended: Ending?
    /// Why the last attempt to end it failed (it stays live and is tried again).
    public var endError: String?
    /// When ending it was last tried and failed.
    public var endAttemptedAt: Date?

    /// How a grant ended.
    public struct Ending: Codable, Sendable, Equatable {
        /// Why.
        public enum Reason: String, Codable, Sendable {
            /// Its time ran out.
            case expired
            /// An operator ended it early.
            case revoked
        }
        /// Why it ended.
        public var reason: Reason
        /// When.
        public var at: Date
        /// Who ended it: the operator, or the host process that noticed the deadline.
        public var by: String
        /// What ending it did to the file, one line.
        public var summary: String
    }

    /// A live grant.
    public init(
        id: ProposalID, bottle: BottleSlug, file: ConfigFile, holdings: GrantHoldings, grantedBy: String,
        grantedAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.bottle = bottle
        self.file = file
        self.holdings = holdings
        self.grantedBy = grantedBy
        self.grantedAt = Timestamp.normalized(grantedAt)
        self.expiresAt = Timestamp.normalized(expiresAt)
    }

    /// Whether it has not ended.
    public var isLive: Bool { ended == nil }

    /// Whether it is live and its deadline has passed at `now`.
    public func isOverdue(at now: Date) -> Bool { isLive && expiresAt <= now }

    /// Checks the fields a damaged or hand-edited ledger could get wrong
    /// before the host acts on them. - Returns: what is wrong, or `nil`.
    func shapeProblem() -> String? {
        if file == .dockerfile { return "grant \(id) is on a Dockerfile, which cannot be time-boxed" }
        if grantedBy.utf8.count > 256 { return "grant \(id): granted_by is longer than 256 bytes" }
        let texts = holdings.hosts + holdings.routesAdded + holdings.routesChanged.flatMap { [$0.before, $0.after] }
        if texts.contains(where: { $0.utf8.count > ProposedFileValidator.maximumSize }) {
            return "grant \(id) holds an item longer than \(ProposedFileValidator.maximumSize) bytes"
        }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case id, bottle, file, holdings, ended
        case grantedBy = "granted_by"
        case grantedAt = "granted_at"
        case expiresAt = "expires_at"
        case endError = "end_error"
        case endAttemptedAt = "end_attempted_at"
    }
}

extension Grant.Ending {
    enum CodingKeys: String, CodingKey {
        case reason, at, by, summary
    }
}
