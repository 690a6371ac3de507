/// The tables of named operators and their approvals, appended to migration
/// 0 of ``FleetSchema/migrations`` (nothing has shipped; once something has,
/// a change here is a new migration).
///
/// Why a text of its own: operators are the web page's concern, not a
/// relay's; the schema's owner keeps the relay's tables, this file these.
/// A token is never stored, only the SHA-256 of it (hex), so a copy of the
/// database opens no session; a token is spent by one `UPDATE … WHERE
/// used_at IS NULL`, so two browsers racing with the same link get one
/// session. Removing an operator deletes their unspent links (cascade) and
/// ends their sessions at their next request (the page asks the table).
public enum OperatorSchema {
    /// The SQL that creates the operator tables (after migration 0's own).
    public static let migration = """
        -- A named operator: who signs in to the fleet page and whose name a decision carries.
        CREATE TABLE fleet_operators (
            name text PRIMARY KEY CHECK (name ~ '^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$'),
            added_at timestamptz NOT NULL DEFAULT now(),
            added_by text NOT NULL DEFAULT current_user,
            last_sign_in timestamptz
        );

        -- One-time sign-in links: only the SHA-256 of each token; spent once, expire.
        CREATE TABLE fleet_operator_tokens (
            token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
            operator text NOT NULL REFERENCES fleet_operators (name) ON DELETE CASCADE,
            issued_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        );

        -- Approvals toward a threshold: one per operator per proposal; the decision row is
        -- written when enough distinct operators approved the same proposal digest AND the
        -- same file to apply (file_sha256: the proposed file for approve, the final one for modify).
        CREATE TABLE fleet_approvals (
            host text NOT NULL,
            bottle text NOT NULL,
            id text NOT NULL,
            operator text NOT NULL,
            proposal_sha256 text NOT NULL CHECK (proposal_sha256 ~ '^[0-9a-f]{64}$'),
            file_sha256 text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
            notes text NOT NULL DEFAULT '',
            approved_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (host, bottle, id, operator),
            FOREIGN KEY (host, bottle, id) REFERENCES fleet_proposals (host, bottle, id) ON DELETE CASCADE
        );

        -- Announced like a proposal's change (migration 0's function: the same three key columns).
        CREATE TRIGGER fleet_approvals_announce AFTER INSERT OR UPDATE ON fleet_approvals
            FOR EACH ROW EXECUTE FUNCTION fleet_announce_proposal();
        """
}
