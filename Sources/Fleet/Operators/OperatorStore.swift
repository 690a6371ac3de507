import Foundation
import Logging
import PostgresNIO

/// The named operators in the fleet database: adding one (with a one-time
/// sign-in token), listing, removing, spending a token, and whether a name
/// still belongs to an operator. Every statement on the operator tables
/// (``OperatorSchema``) is here.
///
/// Why in the database and not a file on one host: any host's `web
/// --database` page signs operators in, so a link made on one host works on
/// every page of the fleet, and `operators remove` on any host ends the
/// operator's sessions everywhere (each page asks ``addedAt(_:)`` and
/// compares it with the session's: a name removed and added again is a new
/// operator, whose old sessions stay ended).
public struct OperatorStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A new sign-in link for `name`, adding the operator if there is none
    /// of that name: the token (to print once) and when it expires. Older
    /// unspent links stay valid until they expire.
    public func add(_ name: FleetOperatorName, lifetime: Duration = OperatorToken.defaultLifetime) async throws
        -> (token: String, expiresAt: Date, isNew: Bool)
    {
        let token = OperatorToken.make()
        let digest = OperatorToken.digest(token)
        let seconds = Double(lifetime.components.seconds)
        return try await client.withTransaction(logger: logger) { connection in
            let inserted = try await connection.query(
                "INSERT INTO fleet_operators (name) VALUES (\(name.rawValue)) ON CONFLICT DO NOTHING RETURNING name",
                logger: logger)
            var isNew = false
            for try await _ in inserted.decode(String.self) { isNew = true }
            let rows = try await connection.query(
                """
                INSERT INTO fleet_operator_tokens (token_sha256, operator, expires_at)
                VALUES (\(digest), \(name.rawValue), now() + make_interval(secs => \(seconds)))
                RETURNING expires_at
                """, logger: logger)
            var expiresAt = Date()
            for try await at in rows.decode(Date.self) { expiresAt = at }
            return (token, expiresAt, isNew)
        }
    }

    /// Every operator, by name.
    public func list() async throws -> [FleetOperator] {
        let rows = try await client.query(
            """
            SELECT o.name, o.added_at, o.added_by, o.last_sign_in,
                (SELECT count(*) FROM fleet_operator_tokens t
                  WHERE t.operator = o.name AND t.used_at IS NULL AND t.expires_at > now())
            FROM fleet_operators o ORDER BY o.name
            """, logger: logger)
        var operators: [FleetOperator] = []
        for try await (name, addedAt, addedBy, lastSignIn, links) in rows.decode((String, Date, String, Date?, Int).self) {
            guard let name = FleetOperatorName(name) else { continue }
            operators.append(
                FleetOperator(name: name, addedAt: addedAt, addedBy: addedBy, lastSignIn: lastSignIn, openLinks: links))
        }
        return operators
    }

    /// Removes the operator and their unspent links; `false` when there was none.
    /// Their open sessions end at their next request.
    public func remove(_ name: FleetOperatorName) async throws -> Bool {
        let rows = try await client.query(
            "DELETE FROM fleet_operators WHERE name = \(name.rawValue) RETURNING name", logger: logger)
        var removed = false
        for try await _ in rows.decode(String.self) { removed = true }
        return removed
    }

    /// Spends a sign-in token: the operator's name and when they were added
    /// (the identity a session keeps) if it was issued, unspent and unexpired
    /// (and the operator not removed), else `nil`. One statement marks it
    /// spent, so of two requests with the same token one signs in.
    public func signIn(token: String) async throws -> (name: FleetOperatorName, addedAt: Date)? {
        guard OperatorToken.isWellFormed(token) else { return nil }
        let rows = try await client.query(
            """
            WITH spent AS (
                UPDATE fleet_operator_tokens SET used_at = now()
                WHERE token_sha256 = \(OperatorToken.digest(token)) AND used_at IS NULL AND expires_at > now()
                RETURNING operator)
            UPDATE fleet_operators SET last_sign_in = now() FROM spent
            WHERE fleet_operators.name = spent.operator RETURNING fleet_operators.name, fleet_operators.added_at
            """, logger: logger)
        var signedIn: (name: FleetOperatorName, addedAt: Date)?
        for try await (text, addedAt) in rows.decode((String, Date).self) {
            signedIn = FleetOperatorName(text).map { ($0, addedAt) }
        }
        return signedIn
    }

    /// When the operator `name` was added; `nil` when there is none (removed).
    /// A session compares it with the one it signed in under, so a name
    /// removed and added again does not bring the old sessions back.
    public func addedAt(_ name: FleetOperatorName) async throws -> Date? {
        let rows = try await client.query(
            "SELECT added_at FROM fleet_operators WHERE name = \(name.rawValue)", logger: logger)
        for try await at in rows.decode(Date.self) { return at }
        return nil
    }
}

extension OperatorStore {
    /// The operator an unspent, unexpired token belongs to, without spending
    /// it: the sign-in page names who the link signs in as before the button
    /// is pressed (a link preview that fetches the URL spends nothing).
    public func holder(of token: String) async throws -> FleetOperatorName? {
        guard OperatorToken.isWellFormed(token) else { return nil }
        let rows = try await client.query(
            """
            SELECT operator FROM fleet_operator_tokens
            WHERE token_sha256 = \(OperatorToken.digest(token)) AND used_at IS NULL AND expires_at > now()
            """, logger: logger)
        var name: FleetOperatorName?
        for try await text in rows.decode(String.self) { name = FleetOperatorName(text) }
        return name
    }
}
