extension FleetSchema {
    /// The SQLSTATE a claim short of its approvals is refused with.
    static let missingApprovalsState = "BS002"

    /// Migration 3: what a role may claim, and what a relay role may lock,
    /// closed in the database itself (found by an attacker's read of
    /// migrations 1 and 2, 2026-12-07).
    ///
    /// - A claim (`delivery = 'awaiting-host'`) that approves or modifies a
    ///   proposal needing more than one approval is refused unless that many
    ///   distinct current operators approved the same proposal digest and the
    ///   same file (the proposed file, or the Modify's final one) in
    ///   `fleet_approvals` — for a Modify, the count the owning host gave for
    ///   any Modify (`critical_approvals`). Before, an operator role could
    ///   insert the decision row itself and skip every count.
    /// - An approval's time is the database's (`now()`, on every write) and
    ///   its `claimed_role` is the login role: an operator role can no longer
    ///   date an approval ahead of an operator's re-adding, and an approval
    ///   written in another operator's name says which role wrote it.
    /// - Operators claim only `approved`, `modified` or `rejected`: `withdrawn`
    ///   and `expired` are the agent's and the host's words.
    /// - A spent sign-in link stays spent.
    /// - Relay roles update named columns only: a table-wide `UPDATE` lets a
    ///   role `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` (row security does not
    ///   apply to locks) and stall every host and operator.
    /// - A bottle name and a tool the readers refuse are refused on write, so
    ///   one relay's bad row cannot stop every operator's fleet list.
    static let claimGuards = #"""
        ALTER TABLE fleet_bottles ADD CONSTRAINT fleet_bottles_slug
            CHECK (bottle ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$');
        ALTER TABLE fleet_proposals ADD CONSTRAINT fleet_proposals_tool
            CHECK (tool IN ('cred-proxy-block', 'pipelock-block', 'capability-block'));
        ALTER TABLE fleet_decisions ADD CONSTRAINT fleet_decisions_apply_state
            CHECK (apply_state IS NULL OR apply_state IN ('pending', 'applied', 'failed', 'skipped'));

        ALTER TABLE fleet_approvals ADD COLUMN claimed_role text;
        CREATE FUNCTION fleet_stamp_approval() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.approved_at := now();
            NEW.claimed_role := session_user;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fleet_approvals_stamp BEFORE INSERT OR UPDATE ON fleet_approvals
            FOR EACH ROW EXECUTE FUNCTION fleet_stamp_approval();

        CREATE FUNCTION fleet_keep_spent_links() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.used_at IS NOT NULL THEN NEW.used_at := OLD.used_at; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fleet_operator_tokens_spent BEFORE UPDATE ON fleet_operator_tokens
            FOR EACH ROW EXECUTE FUNCTION fleet_keep_spent_links();

        DO $$
        DECLARE
            schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE c.oid = 'fleet_proposals'::regclass);
        BEGIN
            EXECUTE format($f$
                CREATE FUNCTION fleet_claim_has_its_approvals() RETURNS trigger LANGUAGE plpgsql AS $body$
                DECLARE
                    needed integer;
                    applied text;
                    found integer;
                BEGIN
                    IF NEW.delivery <> 'awaiting-host' OR NEW.status NOT IN ('approved', 'modified') THEN
                        RETURN NEW;
                    END IF;
                    SELECT CASE WHEN NEW.status = 'modified'
                                THEN greatest(p.required_approvals, p.critical_approvals)
                                ELSE p.required_approvals END,
                           CASE WHEN NEW.status = 'modified' THEN NEW.final_file ELSE p.proposed_file END
                      INTO needed, applied
                      FROM %1$I.fleet_proposals p
                     WHERE p.host = NEW.host AND p.bottle = NEW.bottle AND p.id = NEW.id;
                    IF needed IS NULL OR needed <= 1 THEN RETURN NEW; END IF;
                    SELECT count(DISTINCT a.operator) INTO found
                      FROM %1$I.fleet_approvals a
                      JOIN %1$I.fleet_operators o ON o.name = a.operator AND a.approved_at >= o.added_at
                     WHERE a.host = NEW.host AND a.bottle = NEW.bottle AND a.id = NEW.id
                       AND a.proposal_sha256 = NEW.proposal_sha256
                       AND a.file_sha256 = encode(sha256(convert_to(applied, 'UTF8')), 'hex');
                    IF found < needed THEN
                        RAISE EXCEPTION USING ERRCODE = 'BS002', MESSAGE = format(
                            'proposal %%s needs %%s approvals from distinct operators of this file; %%s recorded',
                            NEW.id, needed, found);
                    END IF;
                    RETURN NEW;
                END $body$
            $f$, schema_name);
        END $$;
        CREATE TRIGGER fleet_decisions_approvals BEFORE INSERT ON fleet_decisions
            FOR EACH ROW EXECUTE FUNCTION fleet_claim_has_its_approvals();

        ALTER POLICY operator_claims ON fleet_decisions
            WITH CHECK (delivery = 'awaiting-host' AND superseded_claim IS NULL AND reason IS NULL
                        AND apply_state IS NULL AND apply_summary IS NULL
                        AND status IN ('approved', 'modified', 'rejected'));

        DO $$
        DECLARE
            table_name text;
            columns text;
        BEGIN
            FOREACH table_name IN ARRAY ARRAY['fleet_proposals', 'fleet_decisions'] LOOP
                SELECT string_agg(quote_ident(attname), ', ') INTO columns FROM pg_attribute
                 WHERE attrelid = table_name::regclass AND attnum > 0 AND NOT attisdropped
                   AND attname NOT IN ('host', 'bottle', 'id');
                EXECUTE format('REVOKE UPDATE ON %I FROM bottle_supervise_relay', table_name);
                EXECUTE format('GRANT UPDATE (%s) ON %I TO bottle_supervise_relay', columns, table_name);
            END LOOP;
        END $$;
        """#
}
