-- Incremental refresh (docs/architecture.md, "Refresh"): a night recomputes only the
-- deflections its loads touched, so the marts remember what they were built from.
-- changed_run_id: the run whose refresh last inserted or changed the row (the reporting suites
-- check those rows); refresh_state.load_seq: the last batch the marts include;
-- refresh_state.context_sha256: what every row depends on besides its own records (the unit
-- reference, the rules' version); a change of it, or no load_seq, makes the next refresh whole.
ALTER TABLE marts.fct_deflection ADD COLUMN changed_run_id text;
ALTER TABLE meta.refresh_state ADD COLUMN load_seq integer;
ALTER TABLE meta.refresh_state ADD COLUMN context_sha256 text;
