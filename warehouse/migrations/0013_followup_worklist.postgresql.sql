-- PostgreSQL only, after 0013_followup_worklist.sql: grants and what DuckDB does not need.

-- Stewards send the worklist to the units; the pipeline's account reads it too. Analysts do not:
-- it names source records, which `reporting` does not.
REVOKE ALL ON quality.followup_worklist FROM PUBLIC;
REVOKE ALL ON quality.followup_worklist FROM deflect_analyst;
GRANT SELECT ON quality.followup_worklist TO deflect_steward, deflect_loader;
