-- PostgreSQL only, after 0017_publication.sql: vintages never change, and who reads what.

-- A vintage is written once: no account updates it (a trigger, whoever the owner), and the
-- pipeline's account may only insert.
CREATE OR REPLACE FUNCTION meta.refuse_vintage_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published vintage never changes (%.%)', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['publication', 'published_cell', 'published_table',
                             'published_cell_member', 'published_deflection', 'revision',
                             'revision_member'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS vintage_immutable ON meta.%I', t);
        EXECUTE format('CREATE TRIGGER vintage_immutable BEFORE UPDATE ON meta.%I '
                       'FOR EACH ROW EXECUTE FUNCTION meta.refuse_vintage_change()', t);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON meta.%I FROM deflect_loader', t);
        EXECUTE format('GRANT SELECT, INSERT ON meta.%I TO deflect_loader', t);
    END LOOP;
END $$;

-- Analysts read every reporting view (0008's default privileges grant the new ones; said
-- again here so the grant does not depend on who created them) and nothing row level.
GRANT SELECT ON reporting.publication, reporting.published_history, reporting.published_table,
    reporting.published_deflection_counts, reporting.published_deflections_by_category,
    reporting.published_statutory_measures, reporting.revision TO deflect_analyst, deflect_steward;
REVOKE ALL ON quality.published_cell_member, quality.revision_member FROM PUBLIC;
REVOKE ALL ON quality.published_cell_member, quality.revision_member FROM deflect_analyst;
GRANT SELECT ON quality.published_cell_member, quality.revision_member TO deflect_steward;
