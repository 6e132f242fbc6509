-- PostgreSQL only, after 0025_superseded_at_load.sql: statistics of meta.quarantine after its
-- every row was updated, so that the state view's first reading plans for few unchecked entries
-- (looked up by the staging keys) rather than hash every staged version.
ANALYZE meta.quarantine;
