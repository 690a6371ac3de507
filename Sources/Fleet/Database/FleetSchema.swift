/// The fleet's tables in PostgreSQL, as numbered migrations.
///
/// Every host's relay mirrors its file queue into these tables; operators
/// read them and add decisions. The file queue stays the contract between a
/// sidecar and its host: nothing here is read by a bottle, and a decision
/// made in the database reaches a bottle only through its own host's relay,
/// which applies it with the same `Applier` as `approve`.
///
/// Why a list of SQL texts and not a migration library: the project carries
/// none (postgres-nio is a driver), the schema is small, and a migration is
/// one transaction under an advisory lock (``FleetMigrator``), which is all
/// such a library would add here.
public enum FleetSchema {
    /// The version a migrated database is at: the number of ``migrations``.
    public static var version: Int { migrations.count }

    /// The advisory lock two relays starting at once take around migrating,
    /// so one migrates and the other finds the work done.
    public static let migrationLock: Int64 = 0x6273_7570_6c65_6574  // "bsupleet"

    /// The channel a row written in `fleet_decisions` is announced on
    /// (payload: the host that owns the bottle), for the relays' LISTEN.
    public static let decisionChannel = "fleet_decisions"
    /// The channel a proposal or decision change is announced on (payload:
    /// `host/bottle/id`), for live views.
    public static let changeChannel = "fleet_changes"

    /// Migration *n* takes a database at version *n* to *n + 1*.
    public static let migrations: [String] = [
        """
        CREATE TABLE fleet_schema (version integer NOT NULL);
        INSERT INTO fleet_schema (version) VALUES (0);

        -- A host: named by its relay (--host-name), lower-case like a DNS label list.
        CREATE TABLE fleet_hosts (
            host text PRIMARY KEY CHECK (host ~ '^[a-z0-9]([a-z0-9.-]{0,62}[a-z0-9])?$'),
            relay_role text NOT NULL DEFAULT current_user,
            relay_version text NOT NULL DEFAULT '',
            last_seen timestamptz NOT NULL DEFAULT now(),
            audit_head text,
            audit_records bigint NOT NULL DEFAULT 0
        );

        CREATE TABLE fleet_bottles (
            host text NOT NULL REFERENCES fleet_hosts (host) ON DELETE CASCADE,
            bottle text NOT NULL,
            seen_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (host, bottle)
        );

        -- A proposal as its host read it: the file's bytes and their digest (what a
        -- decision is bound to), the listing's fields, the host's risk hints.
        CREATE TABLE fleet_proposals (
            host text NOT NULL,
            bottle text NOT NULL,
            id text NOT NULL CHECK (id ~ '^[0-9]{8}-[0-9]{6}-[0-9a-f]{12}$'),
            tool text NOT NULL,
            proposal bytea NOT NULL,
            proposal_sha256 text NOT NULL CHECK (proposal_sha256 ~ '^[0-9a-f]{64}$'),
            proposed_file text NOT NULL,
            justification text NOT NULL,
            created_at timestamptz NOT NULL,
            expires_at timestamptz,
            host_first_seen timestamptz NOT NULL DEFAULT now(),
            risk_hints jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(risk_hints) = 'array'),
            current_file text,
            current_sha256 text CHECK (current_sha256 IS NULL OR current_sha256 ~ '^[0-9a-f]{64}$'),
            problem text,
            waiting boolean NOT NULL DEFAULT false,
            archived boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (host, bottle, id),
            FOREIGN KEY (host, bottle) REFERENCES fleet_bottles (host, bottle) ON DELETE CASCADE,
            -- The digest a decision is bound to is the digest of these bytes, checked by the server.
            CHECK (proposal_sha256 = encode(sha256(proposal), 'hex'))
        );
        CREATE INDEX fleet_proposals_pending ON fleet_proposals (created_at) WHERE NOT archived;

        -- The one decision a proposal gets across the fleet: the primary key is the rule.
        -- `delivery`: awaiting-host (made in the database, not yet applied by the owning
        -- host's relay), delivered (in the host's queue), superseded (the host's queue
        -- had another decision first; the row now holds that one).
        CREATE TABLE fleet_decisions (
            host text NOT NULL,
            bottle text NOT NULL,
            id text NOT NULL,
            status text NOT NULL CHECK (status IN ('approved', 'modified', 'rejected', 'withdrawn', 'expired')),
            notes text NOT NULL DEFAULT '',
            final_file text,
            answer text,
            decided_by text NOT NULL,
            decided_at timestamptz NOT NULL DEFAULT now(),
            proposal_sha256 text CHECK (proposal_sha256 IS NULL OR proposal_sha256 ~ '^[0-9a-f]{64}$'),
            delivery text NOT NULL CHECK (delivery IN ('awaiting-host', 'delivered', 'superseded', 'refused')),
            superseded_claim text,
            reason text,
            apply_state text,
            apply_summary text,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (host, bottle, id),
            FOREIGN KEY (host, bottle, id) REFERENCES fleet_proposals (host, bottle, id) ON DELETE CASCADE,
            CHECK ((status = 'modified') = (final_file IS NOT NULL)),
            CHECK ((delivery = 'refused') = (reason IS NOT NULL))
        );
        CREATE INDEX fleet_decisions_awaiting ON fleet_decisions (host) WHERE delivery = 'awaiting-host';

        CREATE FUNCTION fleet_announce_decision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fleet_decisions', NEW.host);
            PERFORM pg_notify('fleet_changes', NEW.host || '/' || NEW.bottle || '/' || NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER fleet_decisions_announce AFTER INSERT OR UPDATE ON fleet_decisions
            FOR EACH ROW EXECUTE FUNCTION fleet_announce_decision();

        CREATE FUNCTION fleet_announce_proposal() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fleet_changes', NEW.host || '/' || NEW.bottle || '/' || NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER fleet_proposals_announce AFTER INSERT OR UPDATE ON fleet_proposals
            FOR EACH ROW EXECUTE FUNCTION fleet_announce_proposal();
        """
            // Named operators, their sign-in tokens' digests, approvals toward thresholds (fleetweb):
            // part of migration 0 while nothing has shipped.
            + "\n" + OperatorSchema.migration,
        rowSecurity,
        requiredApprovalsMigration,
        claimGuards,
        pendingOrderMigration,
    ]
}
