extension FleetSchema {
    /// The group role every host's relay role is a member of.
    public static let relayGroup = "bottle_supervise_relay"
    /// The group role every operator's (or fleet page's) role is a member of.
    public static let operatorGroup = "bottle_supervise_operator"

    /// The SQLSTATE the migration raises when the fleet's group roles are
    /// missing and the migrating role may not create them: the message says
    /// what a superuser runs (``FleetMigrator`` passes it on as it is).
    static let missingGroupRolesState = "BS001"

    /// What `decided_by` may not hold: the characters ``Queue/Escaped``
    /// escapes (C0, DEL, C1, zero-width and bidi formatting), as a
    /// PostgreSQL regular-expression bracket.
    static let decidedByForbidden =
        #"[\x01-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"#

    /// Migration 1: a role per relay, row-level security per host, host names
    /// held by their relay's role, and who claimed each decision.
    ///
    /// Why group roles: an administrator creates one LOGIN role per host
    /// (`IN ROLE bottle_supervise_relay`) and per operator or fleet page
    /// (`IN ROLE bottle_supervise_operator`); the grants and policies here
    /// name the groups, so adding a host needs no change to the schema.
    ///
    /// Why these policies: a relay role reads every host's name (so a
    /// refused registration can name the holder) but touches bottles,
    /// proposals and decisions only of the hosts whose `relay_role` is its
    /// own; it cannot change who holds a host (the WITH CHECKs), so a host
    /// name belongs to the first role that registered it until the schema's
    /// owner reassigns it. An operator role reads everything and adds only
    /// claims (`delivery = 'awaiting-host'`, no outcome) and approvals; its
    /// `UPDATE (updated_at)` on proposals exists only so `decide` can read
    /// the proposal `FOR SHARE`, and its UPDATE policy's `WITH CHECK (false)`
    /// refuses every actual write. The tables' owner (the role that
    /// migrates; small setups run everything as it) bypasses row-level
    /// security as before: nothing is `FORCE`d.
    ///
    /// Why `claimed_role`: `decided_by` is a name the claimant chose; the
    /// role the database authenticated is not, so a trigger writes
    /// `session_user` (the login role, which `SET ROLE` does not change) on
    /// every insert and whenever the decision itself is replaced (its status,
    /// notes, files, decider or digest; not `decided_at`, which a relay
    /// rewrites at the queue's millisecond precision), and keeps it otherwise.
    static let rowSecurity = #"""
        -- The two group roles, cluster-wide: created once, by a role that may.
        DO $$
        DECLARE
            missing text[] := ARRAY(
                SELECT r FROM unnest(ARRAY['bottle_supervise_relay', 'bottle_supervise_operator']) AS r
                WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r));
            role_name text;
        BEGIN
            IF cardinality(missing) = 0 THEN RETURN; END IF;
            IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                RAISE EXCEPTION USING ERRCODE = 'BS001', MESSAGE = format(
                    'the fleet''s group roles do not exist and role %s may not create them (it has no CREATEROLE); '
                    || 'run as a superuser: %s then run bottle-supervise relay --migrate-only --database URL again',
                    current_user,
                    (SELECT string_agg(format('CREATE ROLE %I NOLOGIN;', r), ' ') FROM unnest(missing) AS r));
            END IF;
            FOREACH role_name IN ARRAY missing LOOP
                BEGIN
                    EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- another database of this cluster created it meanwhile
                END;
            END LOOP;
        END $$;

        -- Who claimed: the login role, forced; names a claimant chose may not hide text.
        ALTER TABLE fleet_decisions ADD COLUMN claimed_role text;
        UPDATE fleet_decisions SET decided_by = regexp_replace(decided_by, '\#(decidedByForbidden)', U&'\FFFD', 'g')
            WHERE decided_by ~ '\#(decidedByForbidden)';
        ALTER TABLE fleet_decisions ADD CONSTRAINT fleet_decisions_decided_by_printable
            CHECK (decided_by !~ '\#(decidedByForbidden)');

        CREATE FUNCTION fleet_record_claimed_role() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT'
               OR (NEW.status, NEW.notes, NEW.final_file, NEW.answer, NEW.decided_by, NEW.proposal_sha256)
                  IS DISTINCT FROM
                  (OLD.status, OLD.notes, OLD.final_file, OLD.answer, OLD.decided_by, OLD.proposal_sha256)
            THEN
                NEW.claimed_role := session_user;
            ELSE
                NEW.claimed_role := OLD.claimed_role;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fleet_decisions_claimed_role BEFORE INSERT OR UPDATE ON fleet_decisions
            FOR EACH ROW EXECUTE FUNCTION fleet_record_claimed_role();

        -- Whether the current role's relay holds a host (invoker's rights: current_user is the caller).
        -- fleet_hosts is named with its schema: an unqualified name would be looked up in the
        -- caller's pg_temp first, where any role may create a table of that name claiming every host.
        DO $$
        BEGIN
            EXECUTE format(
                'CREATE FUNCTION fleet_relay_holds(host_name text) RETURNS boolean LANGUAGE sql STABLE AS %L',
                format('SELECT EXISTS (SELECT 1 FROM %I.fleet_hosts h WHERE h.host = host_name AND h.relay_role = current_user)',
                       (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE c.oid = 'fleet_hosts'::regclass)));
        END $$;

        GRANT SELECT ON fleet_schema TO bottle_supervise_relay, bottle_supervise_operator;

        -- Relays: their own hosts' rows.
        GRANT SELECT, INSERT (host, relay_role, relay_version, last_seen) ON fleet_hosts TO bottle_supervise_relay;
        GRANT UPDATE (relay_version, last_seen, audit_head, audit_records) ON fleet_hosts TO bottle_supervise_relay;
        GRANT SELECT, INSERT ON fleet_bottles TO bottle_supervise_relay;
        GRANT SELECT, INSERT, UPDATE ON fleet_proposals, fleet_decisions TO bottle_supervise_relay;

        -- Operators: read everything, add claims and approvals, spend sign-in links.
        GRANT SELECT ON fleet_hosts, fleet_bottles, fleet_proposals, fleet_decisions, fleet_operators,
            fleet_operator_tokens, fleet_approvals TO bottle_supervise_operator;
        GRANT UPDATE (updated_at) ON fleet_proposals TO bottle_supervise_operator;
        GRANT INSERT (host, bottle, id, status, notes, final_file, answer, decided_by, decided_at, proposal_sha256, delivery)
            ON fleet_decisions TO bottle_supervise_operator;
        GRANT INSERT, UPDATE (proposal_sha256, file_sha256, notes, approved_at) ON fleet_approvals
            TO bottle_supervise_operator;
        GRANT UPDATE (used_at) ON fleet_operator_tokens TO bottle_supervise_operator;
        GRANT UPDATE (last_sign_in) ON fleet_operators TO bottle_supervise_operator;

        ALTER TABLE fleet_hosts ENABLE ROW LEVEL SECURITY;
        ALTER TABLE fleet_bottles ENABLE ROW LEVEL SECURITY;
        ALTER TABLE fleet_proposals ENABLE ROW LEVEL SECURITY;
        ALTER TABLE fleet_decisions ENABLE ROW LEVEL SECURITY;

        CREATE POLICY relay_reads_hosts ON fleet_hosts FOR SELECT TO bottle_supervise_relay USING (true);
        CREATE POLICY relay_adds_own_host ON fleet_hosts FOR INSERT TO bottle_supervise_relay
            WITH CHECK (relay_role = current_user);
        CREATE POLICY relay_updates_own_host ON fleet_hosts FOR UPDATE TO bottle_supervise_relay
            USING (relay_role = current_user) WITH CHECK (relay_role = current_user);
        CREATE POLICY relay_own_bottles ON fleet_bottles FOR ALL TO bottle_supervise_relay
            USING (fleet_relay_holds(host)) WITH CHECK (fleet_relay_holds(host));
        CREATE POLICY relay_own_proposals ON fleet_proposals FOR ALL TO bottle_supervise_relay
            USING (fleet_relay_holds(host)) WITH CHECK (fleet_relay_holds(host));
        CREATE POLICY relay_own_decisions ON fleet_decisions FOR ALL TO bottle_supervise_relay
            USING (fleet_relay_holds(host)) WITH CHECK (fleet_relay_holds(host));

        CREATE POLICY operator_reads_hosts ON fleet_hosts FOR SELECT TO bottle_supervise_operator USING (true);
        CREATE POLICY operator_reads_bottles ON fleet_bottles FOR SELECT TO bottle_supervise_operator USING (true);
        CREATE POLICY operator_reads_proposals ON fleet_proposals FOR SELECT TO bottle_supervise_operator USING (true);
        CREATE POLICY operator_locks_proposals ON fleet_proposals FOR UPDATE TO bottle_supervise_operator
            USING (true) WITH CHECK (false);
        CREATE POLICY operator_reads_decisions ON fleet_decisions FOR SELECT TO bottle_supervise_operator USING (true);
        CREATE POLICY operator_claims ON fleet_decisions FOR INSERT TO bottle_supervise_operator
            WITH CHECK (delivery = 'awaiting-host' AND superseded_claim IS NULL AND reason IS NULL
                        AND apply_state IS NULL AND apply_summary IS NULL)
        """#
}
