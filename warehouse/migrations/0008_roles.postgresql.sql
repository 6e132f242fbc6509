-- Roles (PostgreSQL only). Roles are cluster-wide: create them once, tolerate a concurrent
-- creation by another database's migration; grants are per database and run every time.
--   deflect_loader  writes staging, marts, meta (and reads quality, reporting)
--   deflect_steward reads quality, reporting and the ledger, quarantine, findings and audit
--   deflect_analyst reads reporting only
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['deflect_loader', 'deflect_steward', 'deflect_analyst'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON SCHEMA staging, marts, meta, quality, reporting FROM PUBLIC;

GRANT USAGE ON SCHEMA staging, marts, meta, quality, reporting TO deflect_loader;
GRANT ALL ON ALL TABLES IN SCHEMA staging, marts, meta, quality TO deflect_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO deflect_loader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA meta TO deflect_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA staging, marts, meta, quality GRANT ALL ON TABLES TO deflect_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO deflect_loader;

GRANT USAGE ON SCHEMA quality, reporting, meta TO deflect_steward;
GRANT SELECT ON ALL TABLES IN SCHEMA quality, reporting TO deflect_steward;
GRANT SELECT ON meta.file_ledger, meta.quarantine, meta.finding, meta.load_audit, meta.load_run
    TO deflect_steward;
ALTER DEFAULT PRIVILEGES IN SCHEMA quality, reporting GRANT SELECT ON TABLES TO deflect_steward;

GRANT USAGE ON SCHEMA reporting TO deflect_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO deflect_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO deflect_analyst;
