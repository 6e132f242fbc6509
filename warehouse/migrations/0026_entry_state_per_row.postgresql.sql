-- PostgreSQL only, after 0026_entry_state_per_row.sql. The entries a load resolved, counted
-- per batch after the load (warehouse/load.py), looked up by index rather than by a scan of
-- every entry; and the statistics of meta.quarantine after the runs of superseded entries were
-- written, for the plans of the first readings.
CREATE INDEX quarantine_resolved_load_seq ON meta.quarantine (resolved_load_seq);
ANALYZE meta.quarantine;
