-- PostgreSQL only, after 0014_entry_states.sql: grants and what DuckDB does not need.

-- Stewards read the states and record marks (every steward command needs only these); the
-- pipeline's account writes replays. Analysts read none of it: entries name source records.
REVOKE ALL ON quality.quarantine, quality.quarantine_state, meta.replay FROM PUBLIC;
REVOKE ALL ON quality.quarantine, quality.quarantine_state FROM deflect_analyst;
GRANT SELECT ON quality.quarantine, quality.quarantine_state, meta.replay TO deflect_steward;
GRANT SELECT, INSERT ON quality.quarantine_review TO deflect_steward;
GRANT SELECT ON quality.quarantine, quality.quarantine_state TO deflect_loader;
GRANT ALL ON meta.replay TO deflect_loader;
